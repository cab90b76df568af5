namespace NfsGate.Rpc;

/// <summary>
/// Running one call without an async state machine, a <see cref="Task.Yield"/> or a closure on the fast path: a call
/// whose handler and reply write complete synchronously (a cached GETATTR, LOOKUP, ...) costs no allocation here.
/// A call that goes asynchronous falls back to an async method that owns it from then on. A call runs on the thread
/// pool, or, when it is quick and the last one read, on the connection's receive thread (RpcConnection.Blocking.cs).
/// </summary>
public sealed partial class RpcConnection
{
    // Per-call state, reused: at most MaxInFlightPerConnection are in use on a connection at once.
    private sealed class CallWork(RpcConnection connection) : IThreadPoolWorkItem
    {
        public RpcRecord Record;
        /// <summary>Stopwatch timestamp when queued to the pool (0: not measured).</summary>
        public long QueuedAt;

        public void Execute()
        {
            if (QueuedAt != 0)
            {
                connection.QueueStats!.Add(QueuedAt);
                QueuedAt = 0;
            }
            var ec = connection._executionContext;
            if (ec is null) connection.RunCall(this);
            else ExecutionContext.Run(ec, static w => { var work = (CallWork)w!; work.Owner.RunCall(work); }, this);
        }

        public RpcConnection Owner => connection;
    }

    // Free list for CallWork; also the lock that guards it (calls finish on any thread).
    private readonly CallWork?[] _free;
    private int _freeCount;
    // The read loop's context, so handlers queued to the pool see what they saw under Task.Yield (logging scopes).
    private ExecutionContext? _executionContext;

    /// <summary>
    /// Starts one call whose in-flight slot is already taken: queued to the thread pool (a reused work item, no
    /// closure), so the read loop goes straight on to the next record.
    /// </summary>
    private void StartCall(RpcRecord record)
    {
        var work = Rent();
        work.Record = record;
        if (QueueStats is not null) work.QueuedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
    }

    private void RunCall(CallWork work)
    {
        ValueTask<RpcReply> pending;
        try
        {
            pending = _dispatcher.DispatchAsync(work.Record.Memory, Client, Id, _closing.Token);
        }
        catch (Exception ex)
        {
            LogProcessFailed(_log, ex, Id, Client);
            Finish(work);
            return;
        }
        if (!pending.IsCompleted)
        {
            _ = CompleteSlowCallAsync(pending, work);
            return;
        }
        RpcReply reply;
        try
        {
            reply = pending.Result;
        }
        catch (Exception ex)
        {
            ReportFailure(ex);
            Finish(work);
            return;
        }
        SendReply(reply, work);
    }

    private void SendReply(RpcReply reply, CallWork work)
    {
        if (reply.IsEmpty)
        {
            Finish(work);
            return;
        }
        ValueTask send;
        try
        {
            send = SendAsync(reply.Body);
        }
        catch (Exception ex)
        {
            reply.Dispose();
            ReportFailure(ex);
            Finish(work);
            return;
        }
        if (send.IsCompletedSuccessfully)
        {
            reply.Dispose();
            Finish(work);
        }
        else
        {
            _ = CompleteSlowSendAsync(send, reply, work);
        }
    }

    private async Task CompleteSlowCallAsync(ValueTask<RpcReply> pending, CallWork work)
    {
        RpcReply reply;
        try
        {
            reply = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ReportFailure(ex);
            Finish(work);
            return;
        }
        SendReply(reply, work);
    }

    private async Task CompleteSlowSendAsync(ValueTask send, RpcReply reply, CallWork work)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ReportFailure(ex);
        }
        finally
        {
            reply.Dispose();
            Finish(work);
        }
    }

    private void ReportFailure(Exception ex)
    {
        // Connection closing: the reply has nowhere to go.
        if (ex is OperationCanceledException && _closing.IsCancellationRequested) return;
        LogProcessFailed(_log, ex, Id, Client);
    }

    private void Finish(CallWork work)
    {
        work.Record.Return();
        work.Record = default;
        Recycle(work);
        Interlocked.Decrement(ref _inFlight);
        _lastActivity = Environment.TickCount64;
        _slots.Release();
    }

    private CallWork Rent()
    {
        lock (_free)
        {
            if (_freeCount > 0)
            {
                var w = _free[--_freeCount]!;
                _free[_freeCount] = null;
                return w;
            }
        }
        return new CallWork(this);
    }

    private void Recycle(CallWork work)
    {
        lock (_free)
        {
            if (_freeCount < _free.Length) _free[_freeCount++] = work;
        }
    }
}
