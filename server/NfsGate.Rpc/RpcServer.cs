using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NfsGate.Rpc;

/// <summary>
/// TCP front of the RPC layer: listens on one or more endpoints, accepts up to
/// <see cref="RpcServerOptions.MaxConnections"/> connections and runs an <see cref="RpcConnection"/> on each.
/// </summary>
public sealed partial class RpcServer : IAsyncDisposable
{
    private readonly RpcDispatcher _dispatcher;
    private readonly RpcServerOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private long _nextConnectionId;
    private int _state; // 0 new, 1 started, 2 stopped

    public RpcServer(RpcDispatcher dispatcher, RpcServerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _dispatcher = dispatcher;
        _options = options ?? new RpcServerOptions();
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger<RpcServer>();
    }

    public RpcDispatcher Dispatcher => _dispatcher;

    /// <summary>The bound endpoints (with the real port when 0 was asked for), in the order given to <see cref="Start"/>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints { get; private set; } = [];

    public int ConnectionCount => _connections.Count;

    /// <summary>Binds every endpoint (all or nothing) and starts accepting.</summary>
    public void Start(params IReadOnlyList<IPEndPoint> endpoints)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) throw new InvalidOperationException("server already started");
        if (endpoints.Count == 0) throw new ArgumentException("no endpoint to listen on", nameof(endpoints));
        var bound = new List<IPEndPoint>(endpoints.Count);
        try
        {
            foreach (var ep in endpoints)
            {
                var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                _listeners.Add(s);
                // [::] also takes IPv4 clients (as mapped addresses, unmapped again in RpcConnection).
                if (ep.AddressFamily == AddressFamily.InterNetworkV6 && ep.Address.Equals(IPAddress.IPv6Any)) s.DualMode = true;
                s.Bind(ep);
                s.Listen(_options.Backlog);
                bound.Add((IPEndPoint)s.LocalEndPoint!);
            }
        }
        catch
        {
            foreach (var s in _listeners) s.Dispose();
            _listeners.Clear();
            throw;
        }
        LocalEndPoints = bound;
        foreach (var s in _listeners) _acceptLoops.Add(AcceptLoopAsync(s));
        foreach (var ep in bound) LogListening(_log, ep);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { break; }
            catch (ObjectDisposedException) { break; }
            catch (SocketException ex)
            {
                // Transient (e.g. the peer reset before accept, or out of descriptors): keep listening.
                LogAcceptFailed(_log, ex);
                try { await Task.Delay(10, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                continue;
            }

            if (_connections.Count >= _options.MaxConnections)
            {
                LogTooManyConnections(_log, client.RemoteEndPoint, _options.MaxConnections);
                client.Dispose();
                continue;
            }
            long id = Interlocked.Increment(ref _nextConnectionId);
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[id] = tcs.Task;
            _ = RunConnectionAsync(client, id, tcs);
        }
    }

    private const int SegmentSize = 64 << 10;

    private async Task RunConnectionAsync(Socket socket, long id, TaskCompletionSource done)
    {
        try
        {
            // Small replies (GETATTR, LOOKUP) must not wait for Nagle's timer.
            socket.NoDelay = true;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            // 64 KiB segments, not the 4 KiB default: a 1 MiB WRITE arrives in 16 reads instead of 256 (per-syscall
            // cost dominated large transfers). Replies of 64 KiB and more skip the writer (RpcServer.Socket.cs).
            var pipe = new SocketPipe(socket, PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: SegmentSize, minimumReadSize: SegmentSize / 4, leaveOpen: true)),
                                      PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: SegmentSize, leaveOpen: true)));
            // Behind a trusted load balancer the PROXY header names the client (RpcServer.Proxy.cs); null = closed.
            if (await ProxiedClientAsync(pipe.Input, RpcConnection.Unmap(remote), id).ConfigureAwait(false) is not { } client) return;
            var conn = new RpcConnection(pipe, client, id, _dispatcher, _options, _loggers.CreateLogger<RpcConnection>()) { QueueStats = PoolQueue };
            if (Interlocked.Increment(ref _receiveThreads) <= _options.ReceiveThreads)
            {
                try { await conn.RunOnOwnThread(_stop.Token).ConfigureAwait(false); }
                finally { Interlocked.Decrement(ref _receiveThreads); }
            }
            else
            {
                Interlocked.Decrement(ref _receiveThreads);
                await conn.RunAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            LogConnectionFailed(_log, ex, id);
            socket.Dispose();
        }
        finally
        {
            _connections.TryRemove(id, out _);
            done.TrySetResult();
        }
    }

    private int _receiveThreads;

    /// <summary>Calls of every connection that waited in the thread pool's queue, and for how long.</summary>
    public RpcQueueStats PoolQueue { get; } = new();

    /// <summary>Connections currently served by a receive thread of their own.</summary>
    public int ReceiveThreadsInUse => Volatile.Read(ref _receiveThreads);

    /// <summary>Closes the listeners and every connection (in-flight calls are cancelled), and waits for them.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2) return;
        _stop.Cancel();
        foreach (var s in _listeners) s.Dispose();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "RPC listening on {EndPoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "RPC accept failed")]
    private static partial void LogAcceptFailed(ILogger logger, Exception ex);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "RPC connection from {Client} refused: {Max} connections open")]
    private static partial void LogTooManyConnections(ILogger logger, EndPoint? client, int max);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "RPC connection {Id} failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception ex, long id);
}
