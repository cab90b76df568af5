using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>An in-process RPC server on 127.0.0.1 port 0 with the test program registered.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    public TestProgram Program { get; } = new();
    public RecordingObserver Observer { get; } = new();
    public RpcDispatcher Dispatcher { get; }
    public RpcServer Server { get; }
    public IPEndPoint EndPoint => Server.LocalEndPoints[0];

    public ServerHarness(RpcServerOptions? options = null, DuplicateRequestCache? drc = null, params IPEndPoint[] endpoints)
    {
        Dispatcher = new RpcDispatcher(observer: Observer, drc: drc);
        Dispatcher.Register(Program);
        Server = new RpcServer(Dispatcher, options);
        Server.Start(endpoints.Length == 0 ? [new IPEndPoint(IPAddress.Loopback, 0)] : endpoints);
    }

    public Task<RawRpcClient> ConnectAsync(IPAddress? local = null, IPEndPoint? to = null) => RawRpcClient.ConnectAsync(to ?? EndPoint, local);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>An <see cref="RpcConnection"/> running over two in-memory pipes; the test plays the client.</summary>
public sealed class PipeHarness : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _fromServer = new();
    private readonly RecordAssembler _replies = new(16 * 1024 * 1024);

    public RpcConnection Connection { get; }
    public Task Run { get; }
    public TestProgram Program { get; }

    /// <param name="blocking">Runs <see cref="RpcConnection.RunBlocking"/> on a thread of its own (the transport then
    /// offers a blocking receive) instead of <see cref="RpcConnection.RunAsync"/>.</param>
    public PipeHarness(RpcServerOptions? options = null, RpcDispatcher? dispatcher = null, TestProgram? program = null, IPEndPoint? client = null,
        bool blocking = false)
    {
        Program = program ?? new TestProgram();
        if (dispatcher is null)
        {
            dispatcher = new RpcDispatcher();
            dispatcher.Register(Program);
        }
        IDuplexPipe transport = blocking ? new BlockingDuplex(_toServer.Reader, _fromServer.Writer) : new Duplex(_toServer.Reader, _fromServer.Writer);
        Connection = new RpcConnection(transport, client ?? new IPEndPoint(IPAddress.Loopback, 40000), 1, dispatcher, options);
        Run = blocking ? Connection.RunOnOwnThread(Stop.Token) : Task.Run(() => Connection.RunAsync(Stop.Token));
    }

    /// <summary>Cancelling it stops the connection (as the server's stop does).</summary>
    public CancellationTokenSource Stop { get; } = new();

    /// <summary>Sends several calls in one write, so the connection reads them together.</summary>
    public Task SendCallsAsync(params (uint Xid, uint Proc)[] calls)
    {
        var bytes = new List<byte>();
        foreach (var (xid, proc) in calls) bytes.AddRange(RawRpcClient.Frame(RawRpcClient.BuildCall(xid, TestProgram.Number, 3, proc, [])));
        return SendAsync(bytes.ToArray());
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _toServer.Writer.WriteAsync(bytes);

    public Task SendCallAsync(uint xid, uint proc, ReadOnlySpan<byte> args, uint vers = 3)
        => SendAsync(RawRpcClient.Frame(RawRpcClient.BuildCall(xid, TestProgram.Number, vers, proc, args)));

    public async Task CompleteInputAsync() => await _toServer.Writer.CompleteAsync();

    /// <summary>The next reply, or null once the server has closed its side and nothing is left.</summary>
    public async Task<RpcReplyMessage?> ReadReplyAsync()
    {
        var reader = _fromServer.Reader;
        while (true)
        {
            var rr = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            var buffer = rr.Buffer;
            var st = _replies.TryRead(ref buffer, out var record);
            reader.AdvanceTo(buffer.Start); // the assembler took every byte up to the end of the record
            if (st == RecordStatus.Complete)
            {
                var raw = record.Span.ToArray();
                record.Return();
                return RpcReplyMessage.Parse(raw);
            }
            Assert.NotEqual(RecordStatus.TooLarge, st);
            if (rr.IsCompleted) return null;
        }
    }

    /// <summary>Waits (bounded, generously) for the connection to end; true if it did.</summary>
    public async Task<bool> EndedAsync(int seconds = 20)
        => await Task.WhenAny(Run, Task.Delay(TimeSpan.FromSeconds(seconds))) == Run;

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await EndedAsync();
        await _fromServer.Reader.CompleteAsync();
        _replies.Dispose();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// An in-memory transport with the blocking receive a socket offers: each receive hands over what one write of
    /// the test put in the pipe (or what is left of it), so records written together are read together.
    /// </summary>
    private sealed class BlockingDuplex(PipeReader input, PipeWriter output) : IDuplexPipe, IBlockingReceiver
    {
        private Task<ReadResult>? _pending;
        private volatile bool _stopped;

        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;

        public int Receive(Span<byte> buffer, int timeoutMs)
        {
            while (true)
            {
                if (_stopped) return 0;
                _pending ??= Input.ReadAsync().AsTask();
                if (!_pending.Wait(timeoutMs)) return _stopped ? 0 : -1;
                var rr = _pending.Result;
                _pending = null;
                var data = rr.Buffer;
                int n = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, n).CopyTo(buffer);
                Input.AdvanceTo(data.GetPosition(n));
                if (n > 0) return n;
                if (rr.IsCompleted) return 0;
            }
        }

        // The pipe cannot be peeked without a read of its own; "nothing waiting" is what a quiet socket says too.
        public bool HasPending => false;

        public void StopReceiving()
        {
            _stopped = true;
            Input.CancelPendingRead();
        }
    }
}
