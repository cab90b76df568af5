namespace NfsGate.Protocol.Tests;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing's FakeTimeProvider does the same, but
/// adding a package for forty lines is not worth it). Timers fire synchronously inside <see cref="Advance"/>, in
/// due order, so what a limiter does at a given instant is deterministic.
/// </summary>
internal sealed class QosManualClock : TimeProvider
{
    readonly Lock _lock = new();
    readonly List<ManualTimer> _timers = [];
    long _ticks = TimeSpan.TicksPerDay; // not zero, so nothing depends on the origin

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() { lock (_lock) return _ticks; }
    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new ManualTimer(this, callback, state);
        lock (_lock) _timers.Add(t);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>Moves time forward, firing each timer that comes due at its due time.</summary>
    public void Advance(TimeSpan by)
    {
        long end;
        lock (_lock) end = _ticks + by.Ticks;
        while (true)
        {
            ManualTimer? next = null;
            lock (_lock)
            {
                foreach (var t in _timers)
                    if (t.Due is { } due && due <= end && (next is null || due < next.Due)) next = t;
                if (next is null)
                {
                    _ticks = end;
                    return;
                }
                _ticks = Math.Max(_ticks, next.Due!.Value);
                next.Due = next.Period > 0 ? _ticks + next.Period : null;
            }
            next.Fire();
        }
    }

    public void Advance(double seconds) => Advance(TimeSpan.FromSeconds(seconds));

    sealed class ManualTimer(QosManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long? Due;
        public long Period;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._ticks + Math.Max(0, dueTime.Ticks);
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            }
            return true;
        }

        public void Dispose()
        {
            lock (clock._lock)
            {
                Due = null;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
