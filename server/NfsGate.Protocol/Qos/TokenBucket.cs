namespace NfsGate.Protocol.Qos;

/// <summary>
/// A token bucket that may go into debt (written here because the framework's System.Threading.RateLimiting
/// refuses a request larger than the bucket, which would starve a 1 MiB READ under a small cap). Tokens refill at
/// <see cref="Rate"/> per second up to <see cref="Capacity"/>. A request may start whenever the level is above
/// zero, and then takes its whole cost, possibly leaving the level negative: requests of any size get through, and
/// the ones after them wait until the debt is repaid, so the long-run rate is exactly <see cref="Rate"/>.
/// Pure arithmetic over a caller-supplied clock (seconds as a double); not thread-safe (the limiter holds a lock).
/// </summary>
public sealed class TokenBucket
{
    /// <summary>
    /// The smallest bucket: one token. Below that a bucket (say 0.5 ops/s with a 1 s burst) could never hold a whole
    /// operation and would only ever admit from debt, which still works but makes bursts meaningless.
    /// </summary>
    const double MinCapacity = 1;

    double _tokens;
    double _last;

    public TokenBucket(double rate, TimeSpan burst, double now)
    {
        Configure(rate, burst, now);
        _tokens = Capacity;
        _last = now;
    }

    public double Rate { get; private set; }
    public double Capacity { get; private set; }

    /// <summary>
    /// Changes the rate and burst in place. The level keeps its value (debt included) but never exceeds the new
    /// capacity, so lowering a cap takes effect at once instead of after the old burst drains.
    /// </summary>
    public void Configure(double rate, TimeSpan burst, double now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        if (Rate > 0) Refill(now);
        Rate = rate;
        Capacity = Math.Max(MinCapacity, rate * burst.TotalSeconds);
        _tokens = Math.Min(_tokens, Capacity);
    }

    /// <summary>The level at <paramref name="now"/>; negative while in debt.</summary>
    public double Level(double now)
    {
        Refill(now);
        return _tokens;
    }

    public bool CanStart(double now) => Level(now) > 0;

    /// <summary>Takes <paramref name="cost"/> tokens whatever the level (the caller checked <see cref="CanStart"/>).</summary>
    public void Take(double cost, double now)
    {
        Refill(now);
        _tokens -= cost;
    }

    /// <summary>Seconds until the level is above zero (0 if it is already).</summary>
    public double SecondsUntilStart(double now)
    {
        Refill(now);
        return _tokens > 0 ? 0 : -_tokens / Rate;
    }

    void Refill(double now)
    {
        // A clock that steps back (it should not: timestamps are monotonic) must not drain the bucket.
        if (now > _last)
        {
            _tokens = Math.Min(Capacity, _tokens + (now - _last) * Rate);
            _last = now;
        }
    }
}
