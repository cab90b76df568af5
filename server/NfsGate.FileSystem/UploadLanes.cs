namespace NfsGate.FileSystem;

/// <summary>Who a block upload is for: a client (a flush, a COMMIT, a staged record) or background upkeep (compaction).</summary>
internal enum UploadLane { Client, Background }

/// <summary>
/// The upload slots, in two lanes so upkeep never delays a client: client uploads have
/// <see cref="FileSystemOptions.UploadConcurrency"/> slots of their own that background work never takes, and
/// background uploads a few separate ones (<see cref="FileSystemOptions.CompactUploadConcurrency"/>). On top of that a
/// background upload does not start while any client upload is queued for a slot: when clients saturate their lane
/// the object store link is the bottleneck, and extra upkeep traffic would only slow their uploads down. (On the S3
/// kernel test, compaction sharing the client slots made 4 KiB overwrites wait 24-53 s at p50.)
/// </summary>
internal sealed class UploadLanes(int clientSlots, int backgroundSlots)
{
    private readonly SemaphoreSlim _client = new(clientSlots, clientSlots);
    private readonly SemaphoreSlim _background = new(backgroundSlots, backgroundSlots);
    private readonly Lock _lock = new();
    private int _clientWaiting;
    private TaskCompletionSource _noClientWaiting = Completed();

    /// <summary>Client uploads queued for a slot right now.</summary>
    public int ClientWaiting => Volatile.Read(ref _clientWaiting);

    /// <summary>Client slots free right now (tests).</summary>
    public int ClientFree => _client.CurrentCount;

    /// <summary>Background slots free right now (tests).</summary>
    public int BackgroundFree => _background.CurrentCount;

    /// <summary>Takes a slot of <paramref name="lane"/>; pair with <see cref="Exit"/>.</summary>
    public async ValueTask EnterAsync(UploadLane lane, CancellationToken ct)
    {
        if (lane == UploadLane.Client)
        {
            if (_client.Wait(0)) return;
            Waiting(+1);
            try
            {
                await _client.WaitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                Waiting(-1);
            }
            return;
        }

        await _background.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            while (true)
            {
                Task clear;
                lock (_lock)
                {
                    if (_clientWaiting == 0) return;
                    clear = _noClientWaiting.Task;
                }
                await clear.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        catch
        {
            _background.Release();
            throw;
        }
    }

    public void Exit(UploadLane lane) => (lane == UploadLane.Client ? _client : _background).Release();

    private void Waiting(int delta)
    {
        TaskCompletionSource? clear = null;
        lock (_lock)
        {
            _clientWaiting += delta;
            if (delta > 0 && _clientWaiting == 1) _noClientWaiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
            else if (_clientWaiting == 0) clear = _noClientWaiting;
        }
        clear?.TrySetResult();
    }

    private static TaskCompletionSource Completed()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }
}
