using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// Mirrors a monotonic counter kept elsewhere (the block cache's, the metadata engine's, the QoS limiter's) into a
/// Prometheus counter at scrape time. When the source restarts from zero (a store reopened, a QoS policy replaced)
/// the Prometheus counter keeps counting up from where it was, as rate() expects, instead of stalling until the
/// source passes its old value.
/// </summary>
internal sealed class CounterFeed(ICounter counter)
{
    double _last;

    public void Update(double source)
    {
        double delta = source >= _last ? source - _last : source;
        _last = source;
        if (delta > 0) counter.Inc(delta);
    }
}
