using NfsGate.Protocol.Qos;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// QoS by export, read from the engine at scrape time: calls delayed and the time they waited, calls refused with
/// NFS3ERR_JUKEBOX, calls waiting now, and the caps in force on this gateway (the configured cap times this
/// gateway's share). A cap that is absent has no series. Every export has the counters, at zero when it has no caps,
/// so "is this export being throttled?" always has an answer.
/// </summary>
internal sealed class QosMetrics(IMetricFactory f, Func<QosEngine?> engine, Func<IEnumerable<string>> exports)
{
    public void Attach(GatewayMetrics metrics)
    {
        var delayed = f.NewCounter("nfsgate_qos_throttled_requests_total", "NFSv3 calls held back by the export's QoS caps.", "export");
        var delayedSeconds = f.NewCounter("nfsgate_qos_throttled_seconds_total", "Time NFSv3 calls spent held back by QoS caps.", "export");
        var rejected = f.NewCounter("nfsgate_qos_rejected_total", "NFSv3 calls answered NFS3ERR_JUKEBOX because they would have waited past the maximum QoS delay.", "export");
        var waiting = f.NewGauge("nfsgate_qos_waiting_requests", "NFSv3 calls waiting for QoS tokens now.", "export");
        var bandwidth = f.NewGauge("nfsgate_qos_limit_bytes_per_second", "Bandwidth cap in force on this gateway, by export and direction (read, write).", "export", "direction");
        var ops = f.NewGauge("nfsgate_qos_limit_ops_per_second", "Operations-per-second cap in force on this gateway, by export.", "export");
        var feeds = new Dictionary<string, (CounterFeed Delayed, CounterFeed Seconds, CounterFeed Rejected)>(StringComparer.Ordinal);

        metrics.OnScrape(() =>
        {
            var qos = engine();
            double share = qos?.Share ?? 1;
            foreach (var export in exports())
            {
                if (!feeds.TryGetValue(export, out var feed))
                    feeds[export] = feed = (new(delayed.WithLabels(export)), new(delayedSeconds.WithLabels(export)), new(rejected.WithLabels(export)));
                var stats = qos?.Stats(export) ?? default;
                feed.Delayed.Update(stats.Delayed);
                feed.Seconds.Update(stats.DelayedSeconds);
                feed.Rejected.Update(stats.Rejected);
                // Feeds only add to a child that has changed; make the zero series exist from the first scrape.
                delayed.WithLabels(export).Publish();
                delayedSeconds.WithLabels(export).Publish();
                rejected.WithLabels(export).Publish();
                waiting.WithLabels(export).Set(stats.Waiting);

                var caps = qos?.Get(export).Export ?? QosRates.None;
                SetOrRemove(bandwidth, caps.ReadBytesPerSecond, share, export, "read");
                SetOrRemove(bandwidth, caps.WriteBytesPerSecond, share, export, "write");
                SetOrRemove(ops, caps.OpsPerSecond, share, export);
            }
        });
    }

    static void SetOrRemove(Gauge gauge, long? cap, double share, params string[] labels)
    {
        if (cap is { } c) gauge.WithLabels(labels).Set(c * share);
        else gauge.RemoveLabelled(labels);
    }
}
