using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NfsGate.Rpc;

public enum RpcCloseReason
{
    None,
    /// <summary>The peer closed its side between records.</summary>
    PeerClosed,
    /// <summary>The peer closed its side in the middle of a record.</summary>
    Truncated,
    /// <summary>A fragment header announced a record larger than <see cref="RpcServerOptions.MaxRecordSize"/>.</summary>
    RecordTooLarge,
    /// <summary>A record stayed incomplete longer than <see cref="RpcServerOptions.IncompleteRecordTimeout"/>.</summary>
    SlowRecord,
    /// <summary>No bytes and no call in progress for <see cref="RpcServerOptions.IdleTimeout"/>.</summary>
    Idle,
    /// <summary>Every in-flight slot stayed busy for <see cref="RpcServerOptions.IdleTimeout"/> (peer not reading replies, or handlers hang).</summary>
    Stalled,
    /// <summary>The server is stopping.</summary>
    Stopped,
    /// <summary>The transport failed (reset, I/O error).</summary>
    TransportError,
}

/// <summary>
/// One client session over a duplex pipe (a socket in production, an in-memory <see cref="Pipe"/> in tests):
/// reassembles records, dispatches each without waiting for the previous one, and writes replies as they complete
/// (possibly out of order; the client matches them by xid) under a write lock.
/// </summary>
public sealed partial class RpcConnection
{
    private readonly IDuplexPipe _transport;
    private readonly RpcDispatcher _dispatcher;
    private readonly RpcServerOptions _options;
    private readonly ILogger _log;
    private readonly RecordAssembler _assembler;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private bool _outputDone;
    private int _inFlight;
    private long _lastActivity;
    private int _started;

    public RpcConnection(IDuplexPipe transport, IPEndPoint client, long id, RpcDispatcher dispatcher,
        RpcServerOptions? options = null, ILogger? logger = null)
    {
        _transport = transport;
        Client = Unmap(client);
        Id = id;
        _dispatcher = dispatcher;
        _options = options ?? new RpcServerOptions();
        _log = logger ?? NullLogger.Instance;
        _assembler = new RecordAssembler(_options.MaxRecordSize);
        _slots = new SemaphoreSlim(_options.MaxInFlightPerConnection, _options.MaxInFlightPerConnection);
        _free = new CallWork?[Math.Min(_options.MaxInFlightPerConnection, 256)];
    }

    /// <summary>Where calls queued to the thread pool count their wait (null: not measured). Shared by a server's connections.</summary>
    public RpcQueueStats? QueueStats { get; init; }

    /// <summary>The peer, with an IPv4-mapped IPv6 address unmapped to IPv4.</summary>
    public IPEndPoint Client { get; }
    public long Id { get; }
    public RpcCloseReason CloseReason { get; private set; }
    /// <summary>Calls currently being processed.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public static IPEndPoint Unmap(IPEndPoint ep)
        => ep.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ep.Address.MapToIPv4(), ep.Port) : ep;

    /// <summary>
    /// Runs the session until the peer leaves, a limit is hit or <paramref name="ct"/> fires; then lets in-flight calls
    /// finish (bounded by <see cref="RpcServerOptions.DrainTimeout"/>) and completes both sides of the transport.
    /// Never throws for anything the peer does.
    /// </summary>
    public async Task RunAsync(CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("connection already running");
        var input = _transport.Input;
        bool timedOut = false;
        // One timer per connection re-armed before each read; it cancels the pending read rather than a token,
        // so a timeout costs no exception and no allocation per read.
        using var timer = new Timer(_ => { Volatile.Write(ref timedOut, true); input.CancelPendingRead(); });
        using var stopReg = ct.Register(() => input.CancelPendingRead());
        _lastActivity = Environment.TickCount64;
        _executionContext = ExecutionContext.Capture();
        LogOpened(_log, Id, Client);
        try
        {
            while (CloseReason == RpcCloseReason.None)
            {
                if (ct.IsCancellationRequested) { CloseReason = RpcCloseReason.Stopped; break; }
                timer.Change(NextTimeout(), Timeout.InfiniteTimeSpan);
                ReadResult rr;
                try
                {
                    rr = await input.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    timer.Change(Timeout.Infinite, Timeout.Infinite);
                }

                // A cancelled read may still carry bytes: consume them first so the timeout decision sees them.
                var buffer = rr.Buffer;
                _consumedTo = buffer.Start;
                if (!buffer.IsEmpty)
                {
                    _lastActivity = Environment.TickCount64;
                    await ConsumeAsync(buffer, ct).ConfigureAwait(false);
                }
                input.AdvanceTo(_consumedTo);

                if (rr.IsCanceled)
                {
                    if (ct.IsCancellationRequested) { CloseReason = RpcCloseReason.Stopped; break; }
                    if (Volatile.Read(ref timedOut))
                    {
                        Volatile.Write(ref timedOut, false);
                        if (CloseReason == RpcCloseReason.None) CloseReason = CheckTimeouts();
                    }
                }
                if (CloseReason == RpcCloseReason.None && rr.IsCompleted)
                    CloseReason = _assembler.InProgress ? RpcCloseReason.Truncated : RpcCloseReason.PeerClosed;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            CloseReason = RpcCloseReason.Stopped;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            CloseReason = RpcCloseReason.TransportError;
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private SequencePosition _consumedTo;

    // Feeds what was read to the assembler and dispatches each complete record. The assembler consumes everything,
    // so the pipe never holds more than one read's worth of bytes.
    private async ValueTask ConsumeAsync(ReadOnlySequence<byte> buffer, CancellationToken ct)
    {
        while (TryTakeRecord(ref buffer, out var record))
        {
            bool gotSlot;
            try
            {
                gotSlot = await _slots.WaitAsync(SlotWait, ct).ConfigureAwait(false);
            }
            catch
            {
                record.Return();
                throw;
            }
            if (!Admit(gotSlot, record)) break;
            // Always queued on this loop, which runs on the pool itself: running the last record of a read here measured
            // no faster (GETATTR new ÷ old 0.66-1.18 inline, 0.58-1.31 queued), because the socket engine's hand-off
            // to this loop is a thread hop of its own. Connections with a receive thread answer quick calls where
            // they read them (RpcConnection.Blocking.cs); this loop serves the ones past RpcServerOptions.ReceiveThreads.
            StartCall(record);
        }
        _consumedTo = buffer.Start;
    }

    // Both loops: the next complete record, or false when more bytes are needed or a record is over the cap (then
    // the connection closes).
    private bool TryTakeRecord(ref ReadOnlySequence<byte> buffer, out RpcRecord record)
    {
        var status = _assembler.TryRead(ref buffer, out record);
        if (status == RecordStatus.Complete) return true;
        if (status == RecordStatus.TooLarge)
        {
            LogTooLarge(_log, Id, Client, _options.MaxRecordSize);
            CloseReason = RpcCloseReason.RecordTooLarge;
        }
        return false;
    }

    // Back-pressure: with MaxInFlight calls running, stop reading until one finishes. If none finishes within the
    // idle timeout the client has stopped reading replies (or handlers hang): give the connection up.
    private TimeSpan SlotWait => _options.IdleTimeout < TimeSpan.Zero ? Timeout.InfiniteTimeSpan : _options.IdleTimeout;

    // Both loops, after the slot wait: counts the call in, or gives the connection up as stalled.
    private bool Admit(bool gotSlot, RpcRecord record)
    {
        if (!gotSlot)
        {
            record.Return();
            CloseReason = RpcCloseReason.Stalled;
            return false;
        }
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    /// <summary>
    /// Replies at least this large skip the pipe (<see cref="IDirectRecordSender"/>). Below it, copying into the pipe
    /// costs less than a send of its own would: 64 KiB is one pipe segment, so every reply that needed more than one
    /// segment (READ data, large READDIRPLUS) goes direct.
    /// </summary>
    public const int DirectSendMin = 64 << 10;

    private async ValueTask SendAsync(ReadOnlyMemory<byte> body)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_outputDone) return;
            // Every pipe write below is flushed before the lock is released, so the pipe holds nothing here and a
            // direct send cannot overtake an earlier reply.
            if (body.Length >= DirectSendMin && _transport is IDirectRecordSender direct)
            {
                await direct.SendRecordAsync(body, _closing.Token).ConfigureAwait(false);
                return;
            }
            var output = _transport.Output;
            var flush = await RecordMarking.WriteRecordAsync(output, body.Span, _closing.Token).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled) _outputDone = true;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                                       or InvalidOperationException or OperationCanceledException)
        {
            _outputDone = true; // the peer is gone; later replies are dropped
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // A negative timeout (Timeout.InfiniteTimeSpan) disables that check.
    private static long Ms(TimeSpan t) => t < TimeSpan.Zero ? long.MaxValue / 4 : (long)t.TotalMilliseconds;

    private TimeSpan NextTimeout()
    {
        long now = Environment.TickCount64;
        long dueMs = _assembler.InProgress
            ? _assembler.RecordStartedAt + Ms(_options.IncompleteRecordTimeout) - now
            : _lastActivity + Ms(_options.IdleTimeout) - now;
        // Timer periods stop at about 49 days; re-arming after that is harmless (the clocks decide).
        return TimeSpan.FromMilliseconds(Math.Clamp(dueMs, 1, int.MaxValue));
    }

    // The timer fired: decide from the clocks (a timer racing with arriving bytes must not close a healthy connection).
    private RpcCloseReason CheckTimeouts()
    {
        long now = Environment.TickCount64;
        if (_assembler.InProgress)
            return now - _assembler.RecordStartedAt >= Ms(_options.IncompleteRecordTimeout) ? RpcCloseReason.SlowRecord : RpcCloseReason.None;
        if (InFlight > 0) return RpcCloseReason.None;
        return now - _lastActivity >= Ms(_options.IdleTimeout) ? RpcCloseReason.Idle : RpcCloseReason.None;
    }

    private async Task CloseAsync()
    {
        // A peer that closed cleanly still gets the replies to what it sent; any other reason cancels the handlers.
        if (CloseReason != RpcCloseReason.PeerClosed) _closing.Cancel();
        using (var drain = new CancellationTokenSource(_options.DrainTimeout))
        {
            try
            {
                for (int i = 0; i < _options.MaxInFlightPerConnection; i++) await _slots.WaitAsync(drain.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Handlers that ignore cancellation: give up on their replies.
            }
        }
        _closing.Cancel();
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _outputDone = true;
            await _transport.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception) { /* transport already gone */ }
        finally
        {
            _writeLock.Release();
        }
        try { await _transport.Input.CompleteAsync().ConfigureAwait(false); } catch (Exception) { /* already gone */ }
        _assembler.Dispose();
        LogClosed(_log, Id, Client, CloseReason);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "RPC connection {Id} opened from {Client}")]
    private static partial void LogOpened(ILogger logger, long id, IPEndPoint client);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "RPC connection {Id} from {Client} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, long id, IPEndPoint client, RpcCloseReason reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "RPC connection {Id} from {Client}: record exceeds {Max} bytes, closing")]
    private static partial void LogTooLarge(ILogger logger, long id, IPEndPoint client, int max);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "RPC connection {Id} from {Client}: call processing failed")]
    private static partial void LogProcessFailed(ILogger logger, Exception ex, long id, IPEndPoint client);
}
