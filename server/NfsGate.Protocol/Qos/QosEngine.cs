using System.Net;

namespace NfsGate.Protocol.Qos;

/// <summary>
/// Per-export QoS for the whole gateway: one <see cref="QosLimiter"/> per export that has caps, found by export name
/// (names are what the config, the admin API and the CLI use, and they survive restarts). Exports without caps cost
/// one dictionary lookup per call. Policies can be replaced at any time and apply to the next token decision.
/// <see cref="Share"/> scales every cap: a cluster of N gateways splitting a cap gives each 1/N (or a weighted part),
/// and changes it as nodes join or leave. Thread-safe.
/// </summary>
public sealed class QosEngine : IDisposable
{
    readonly Lock _lock = new();
    readonly TimeProvider _time;
    readonly Dictionary<string, QosPolicy> _policies = new(StringComparer.Ordinal);
    /// <summary>Counters of limiters dropped when their export's caps were removed, so counters never go backwards.</summary>
    readonly Dictionary<string, QosStats> _retired = new(StringComparer.Ordinal);
    /// <summary>Copy-on-write, so the per-call lookup takes no lock.</summary>
    volatile Dictionary<string, QosLimiter> _limiters = new(StringComparer.Ordinal);
    double _share = 1;

    public QosEngine(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>This gateway's part of every cap, in (0, 1].</summary>
    public double Share
    {
        get { lock (_lock) return _share; }
        set
        {
            if (!(value > 0 && value <= 1)) throw new ArgumentOutOfRangeException(nameof(value), value, "share must be in (0, 1]");
            lock (_lock)
            {
                _share = value;
                foreach (var (name, limiter) in _limiters) limiter.Configure(_policies[name], value);
            }
        }
    }

    /// <summary>Every export with a policy, by name.</summary>
    public IReadOnlyDictionary<string, QosPolicy> Policies
    {
        get { lock (_lock) return new Dictionary<string, QosPolicy>(_policies, StringComparer.Ordinal); }
    }

    public QosPolicy Get(string export)
    {
        lock (_lock) return _policies.GetValueOrDefault(export) ?? QosPolicy.None;
    }

    /// <summary>
    /// Replaces an export's policy. Takes effect for calls already waiting too: a raised cap releases them sooner,
    /// a lowered one holds them longer, a removed one lets them all run.
    /// </summary>
    public void Set(string export, QosPolicy policy)
    {
        lock (_lock)
        {
            if (policy.IsEmpty)
            {
                _policies.Remove(export);
                if (_limiters.TryGetValue(export, out var old))
                {
                    var next = new Dictionary<string, QosLimiter>(_limiters, StringComparer.Ordinal);
                    next.Remove(export);
                    _limiters = next;
                    // Callers that looked the limiter up just before see no caps and pass; waiting calls run.
                    old.Configure(policy, _share);
                    old.Dispose();
                    _retired[export] = Sum(_retired.GetValueOrDefault(export), old.Stats);
                }
                return;
            }
            _policies[export] = policy;
            if (_limiters.TryGetValue(export, out var limiter))
            {
                limiter.Configure(policy, _share);
                return;
            }
            limiter = new QosLimiter(_time);
            limiter.Configure(policy, _share);
            _limiters = new Dictionary<string, QosLimiter>(_limiters, StringComparer.Ordinal) { [export] = limiter };
        }
    }

    /// <summary>
    /// Waits until the call may run under <paramref name="export"/>'s caps: true to run it, false when it would have
    /// waited past the policy's maximum delay (answer NFS3ERR_JUKEBOX). Completes synchronously when not throttled.
    /// </summary>
    public ValueTask<bool> AdmitAsync(string export, IPAddress client, QosKind kind, long bytes, CancellationToken ct = default)
    {
        if (!_limiters.TryGetValue(export, out var limiter)) return new(true);
        return limiter.AdmitAsync(client, kind, bytes, ct);
    }

    /// <summary>An export's counters since start (all zero if it never had caps); they only grow.</summary>
    public QosStats Stats(string export)
    {
        lock (_lock)
        {
            var live = _limiters.TryGetValue(export, out var limiter) ? limiter.Stats : default;
            return Sum(_retired.GetValueOrDefault(export), live);
        }
    }

    static QosStats Sum(QosStats a, QosStats b) =>
        new(a.Admitted + b.Admitted, a.Delayed + b.Delayed, a.Rejected + b.Rejected, a.DelayedSeconds + b.DelayedSeconds, a.Waiting + b.Waiting);

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var limiter in _limiters.Values) limiter.Dispose();
            _limiters = new Dictionary<string, QosLimiter>(StringComparer.Ordinal);
        }
    }
}
