namespace NfsGate.Protocol.Qos;

/// <summary>
/// The three buckets of one scope (an export, or one client address): read bytes, write bytes, operations. A null
/// bucket is an absent cap. Every call costs one operation; READ also costs its byte count from the read bucket and
/// WRITE from the write bucket, so a read backlog never holds back writes or metadata calls of the same client
/// beyond the shared operations cap. Not thread-safe (the limiter's lock).
/// </summary>
internal sealed class QosBuckets
{
    TokenBucket? _read, _write, _ops;

    public bool IsEmpty => _read is null && _write is null && _ops is null;

    /// <summary>Applies <paramref name="rates"/> scaled by <paramref name="share"/> (this gateway's part of a cluster-wide cap).</summary>
    public void Configure(QosRates rates, TimeSpan burst, double share, double now)
    {
        _read = Update(_read, rates.ReadBytesPerSecond, burst, share, now);
        _write = Update(_write, rates.WriteBytesPerSecond, burst, share, now);
        _ops = Update(_ops, rates.OpsPerSecond, burst, share, now);
    }

    static TokenBucket? Update(TokenBucket? bucket, long? cap, TimeSpan burst, double share, double now)
    {
        if (cap is not { } c) return null;
        double rate = c * share;
        if (bucket is null) return new TokenBucket(rate, burst, now);
        bucket.Configure(rate, burst, now);
        return bucket;
    }

    TokenBucket? DataBucket(QosKind kind) => kind switch
    {
        QosKind.Read => _read,
        QosKind.Write => _write,
        _ => null,
    };

    public bool CanStart(QosKind kind, double now) =>
        (_ops?.CanStart(now) ?? true) && (DataBucket(kind)?.CanStart(now) ?? true);

    public void Take(QosKind kind, long bytes, double now)
    {
        _ops?.Take(1, now);
        DataBucket(kind)?.Take(bytes, now);
    }

    public double SecondsUntilStart(QosKind kind, double now) =>
        Math.Max(_ops?.SecondsUntilStart(now) ?? 0, DataBucket(kind)?.SecondsUntilStart(now) ?? 0);
}
