using System.Buffers;

namespace NfsGate.Rpc;

/// <summary>
/// The receive side on a thread of its own, with blocking receives, for transports that offer them
/// (<see cref="IBlockingReceiver"/>; RpcServer decides which connections get a thread).
///
/// Why: on the async loop one call at a time cost about 5.5 context switches on the server (the socket engine's epoll
/// thread wakes, hands the read to a pool thread, which queues the call to another pool thread, and idle workers
/// spin and sleep), against about 3 for nfs-ganesha, and the switches were most of the CPU per call (perf/README.md,
/// "Largest gaps" item 6). Here the kernel wakes this thread when bytes arrive, and the thread answers a quick call
/// (<see cref="ProcFlags.Quick"/>) itself when nothing else is waiting. Everything else still goes to the pool, as on
/// the async loop: a CREATE's group commit must not hold up the calls behind it on the same connection.
/// </summary>
public sealed partial class RpcConnection
{
    /// <summary>Bytes read per receive: a 1 MiB WRITE arrives in a handful of reads.</summary>
    public const int BlockingReceiveSize = 256 << 10;

    /// <summary>
    /// Runs <see cref="RunBlocking"/> on a new thread of its own ("RPC receive"); the task ends with the session.
    /// </summary>
    public Task RunOnOwnThread(CancellationToken ct = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                RunBlocking(ct);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }, maxStackSize: 1 << 20)
        {
            IsBackground = true,
            Name = "RPC receive",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Runs the session on the calling thread until the peer leaves, a limit is hit or <paramref name="ct"/> fires,
    /// then closes as <see cref="RunAsync"/> does. Blocks the caller throughout: call it on a dedicated thread.
    /// </summary>
    public void RunBlocking(CancellationToken ct = default)
    {
        if (_transport is not IBlockingReceiver rx) throw new InvalidOperationException("the transport has no blocking receive");
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("connection already running");
        _lastActivity = Environment.TickCount64;
        _executionContext = ExecutionContext.Capture();
        LogOpened(_log, Id, Client);
        var buf = ArrayPool<byte>.Shared.Rent(BlockingReceiveSize);
        try
        {
            using var stopReg = ct.Register(static s => ((IBlockingReceiver)s!).StopReceiving(), rx);
            // Bytes that came with a PROXY header (read through the pipe) belong to the first records.
            var input = _transport.Input;
            if (input.TryRead(out var early))
            {
                if (!early.Buffer.IsEmpty) ConsumeBlocking(early.Buffer, rx, ct);
                input.AdvanceTo(early.Buffer.End);
            }
            while (CloseReason == RpcCloseReason.None)
            {
                if (ct.IsCancellationRequested) { CloseReason = RpcCloseReason.Stopped; break; }
                int n = rx.Receive(buf, (int)NextTimeout().TotalMilliseconds);
                if (ct.IsCancellationRequested) { CloseReason = RpcCloseReason.Stopped; break; }
                if (n < 0)
                {
                    CloseReason = CheckTimeouts();
                    continue;
                }
                if (n == 0)
                {
                    CloseReason = _assembler.InProgress ? RpcCloseReason.Truncated : RpcCloseReason.PeerClosed;
                    break;
                }
                _lastActivity = Environment.TickCount64;
                ConsumeBlocking(new ReadOnlySequence<byte>(buf, 0, n), rx, ct);
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
            ArrayPool<byte>.Shared.Return(buf);
            CloseAsync().GetAwaiter().GetResult();
        }
    }

    // ConsumeAsync's twin for the blocking loop: the same caps and back-pressure, with a blocking slot wait.
    private void ConsumeBlocking(ReadOnlySequence<byte> buffer, IBlockingReceiver rx, CancellationToken ct)
    {
        while (TryTakeRecord(ref buffer, out var record))
        {
            bool gotSlot;
            try
            {
                gotSlot = _slots.Wait(SlotWait, ct);
            }
            catch
            {
                record.Return();
                throw;
            }
            if (!Admit(gotSlot, record)) return;
            // Answered here only when it is the last call that has arrived: with more waiting, the pool runs this one
            // while this thread goes on reading, so pipelined calls still run side by side.
            if (buffer.IsEmpty && !_assembler.InProgress && _dispatcher.IsQuick(record.Span) && !rx.HasPending)
            {
                var work = Rent();
                work.Record = record;
                RunCall(work);
            }
            else
            {
                StartCall(record);
            }
        }
    }
}
