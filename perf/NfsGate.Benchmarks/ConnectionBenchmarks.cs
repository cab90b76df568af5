using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using NfsGate.Rpc;

namespace NfsGate.Benchmarks;

/// <summary>
/// The RPC session loop's own cost per call: a synchronous procedure that writes one word, driven through a real
/// <see cref="RpcConnection"/> over in-memory pipes (record marking, reassembly, in-flight slot, dispatch, reply
/// framing and flush), <see cref="Depth"/> calls sent before their replies are read. No NFS, no socket: what this
/// measures is what every NFS call pays on top of <see cref="DispatchBenchmarks.GetAttrRecord"/>.
/// </summary>
[MemoryDiagnoser]
public class ConnectionBenchmarks
{
    private const int Calls = 16;
    private const uint Prog = 0x2000_0001;

    private Pipe _toServer = null!, _toClient = null!;
    private RpcConnection _connection = null!;
    private Task _run = null!;
    private byte[] _batch = [];

    [Params(1, 4)]
    public int Depth { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dispatcher = new RpcDispatcher();
        dispatcher.Register(new OneWordProgram());
        _toServer = new Pipe();
        _toClient = new Pipe();
        _connection = new RpcConnection(new Duplex(_toServer.Reader, _toClient.Writer), new IPEndPoint(IPAddress.Loopback, 700), 1, dispatcher);
        _run = _connection.RunAsync();
        byte[] one = FramedCall();
        _batch = new byte[one.Length * Depth];
        for (int i = 0; i < Depth; i++) one.CopyTo(_batch, i * one.Length);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _toServer.Writer.CompleteAsync();
        await _run;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task<int> SyncCall()
    {
        int replies = 0;
        for (int sent = 0; sent < Calls; sent += Depth)
        {
            await _toServer.Writer.WriteAsync(_batch);
            replies += await ReadRepliesAsync(Depth);
        }
        return replies;
    }

    private async ValueTask<int> ReadRepliesAsync(int want)
    {
        int got = 0;
        var reader = _toClient.Reader;
        while (got < want)
        {
            var rr = await reader.ReadAsync();
            var buffer = rr.Buffer;
            while (got < want && TryTakeRecord(ref buffer)) got++;
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (rr.IsCompleted && got < want) throw new InvalidOperationException("connection closed");
        }
        return got;
    }

    // Replies are single-fragment records: a 4-byte mark, then the body.
    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 4) return false;
        Span<byte> mark = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(mark);
        long total = 4 + (BinaryPrimitives.ReadUInt32BigEndian(mark) & ~RecordMarking.LastFragmentBit);
        if (buffer.Length < total) return false;
        buffer = buffer.Slice(total);
        return true;
    }

    private static byte[] FramedCall()
    {
        using var w = new XdrWriter();
        w.WriteUInt32(0);                 // record mark, filled in below
        w.WriteUInt32(7);                 // xid
        w.WriteUInt32(0);                 // CALL
        w.WriteUInt32(2);                 // RPC version
        w.WriteUInt32(Prog);
        w.WriteUInt32(1);                 // version
        w.WriteUInt32(1);                 // procedure
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE);
        w.WriteUInt32(0);
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE);
        w.WriteUInt32(0);
        var bytes = w.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(bytes.Length - 4) | RecordMarking.LastFragmentBit);
        return bytes;
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;
        public PipeWriter Output => output;
    }

    private sealed class OneWordProgram : IRpcProgram
    {
        private readonly RpcProcedure _proc = new(1, "ONE", static (c, w, ct) =>
        {
            w.WriteUInt32(1);
            return ValueTask.FromResult(AcceptStat.SUCCESS);
        });

        public uint Program => Prog;
        public uint LowVersion => 1;
        public uint HighVersion => 1;
        public string Name => "bench";
        public RpcProcedure? GetProcedure(uint version, uint procedure) => procedure == 1 ? _proc : null;
    }
}
