namespace NfsGate.FileSystem;

/// <summary>
/// The global cap on buffered write bytes. A writer reserves its bytes before buffering them and waits (with a
/// deadline) while the cap is reached; flushes release. This is the back-pressure that keeps a fast client from
/// running the server out of memory when the object store is slow.
/// </summary>
internal sealed class BufferBudget(long max)
{
    private readonly Lock _lock = new();
    private long _used;
    private long _peak;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Max => max;
    public long Used => Volatile.Read(ref _used);

    /// <summary>Reserves <paramref name="n"/> bytes, waiting up to <paramref name="maxWait"/>; false on timeout.</summary>
    /// <param name="onWait">Called each time the caller has to wait (to kick flushes).</param>
    public async ValueTask<bool> ReserveAsync(long n, TimeSpan maxWait, Action onWait, CancellationToken ct)
    {
        if (n > max) return false; // could never fit
        long deadline = Environment.TickCount64 + (long)maxWait.TotalMilliseconds;
        while (true)
        {
            Task released;
            lock (_lock)
            {
                if (_used + n <= max)
                {
                    _used += n;
                    if (_used > _peak) _peak = _used;
                    return true;
                }
                released = _released.Task;
            }
            onWait();
            long left = deadline - Environment.TickCount64;
            if (left <= 0) return false;
            await Task.WhenAny(released, Task.Delay(TimeSpan.FromMilliseconds(left), ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Counts <paramref name="n"/> bytes without waiting, even past the cap (data found on disk at startup).</summary>
    public void Add(long n)
    {
        if (n <= 0) return;
        lock (_lock)
        {
            _used += n;
            if (_used > _peak) _peak = _used;
        }
    }

    /// <summary>The most ever reserved at once (tests check the cap holds under load).</summary>
    public long Peak => Volatile.Read(ref _peak);

    public void Release(long n)
    {
        if (n <= 0) return;
        TaskCompletionSource waiters;
        lock (_lock)
        {
            _used -= n;
            waiters = _released;
            _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        waiters.TrySetResult();
    }
}
