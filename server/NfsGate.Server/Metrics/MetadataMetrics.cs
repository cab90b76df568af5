using NfsGate.Metadata.Kv;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// Turns <see cref="IKvStore.Stats"/> into series. Known RocksDB statistics get proper names and units; any other
/// statistic an engine reports (the in-memory engine's key count, a SQL engine's) is
/// nfsgate_metadata_engine_stat{stat=...}, bounded by the engine's own fixed list.
/// </summary>
internal sealed class MetadataMetrics(IMetricFactory f, IKvStore kv)
{
    static readonly Dictionary<string, (string Name, string Help, bool Counter)> Known = new()
    {
        ["commits"] = ("nfsgate_metadata_commits_total", "Metadata transactions committed.", true),
        ["durable_commits"] = ("nfsgate_metadata_durable_commits_total", "Metadata commits synced to stable storage.", true),
        ["sync_seconds"] = ("nfsgate_metadata_sync_seconds_total", "Time spent making metadata commits durable (WAL fsync); divided by nfsgate_metadata_durable_commits_total, the time a stable WRITE or COMMIT waits for its metadata.", true),
        ["aborts"] = ("nfsgate_metadata_aborts_total", "Metadata transactions rolled back (conflicts retried included).", true),
        ["live_data_bytes"] = ("nfsgate_metadata_live_data_bytes", "RocksDB estimate of live data size.", false),
        ["keys_estimate"] = ("nfsgate_metadata_keys", "RocksDB estimate of the number of keys.", false),
        ["sst_bytes"] = ("nfsgate_metadata_sst_bytes", "RocksDB total SST file size (the metadata's size on disk).", false),
        ["memtable_bytes"] = ("nfsgate_metadata_memtable_bytes", "RocksDB memtable size.", false),
        ["block_cache_bytes"] = ("nfsgate_metadata_block_cache_bytes", "RocksDB block cache usage.", false),
        ["pending_compaction_bytes"] = ("nfsgate_metadata_pending_compaction_bytes", "RocksDB estimate of bytes compaction still has to rewrite.", false),
        ["running_compactions"] = ("nfsgate_metadata_running_compactions", "RocksDB compactions running now.", false),
        ["delayed_write_rate"] = ("nfsgate_metadata_delayed_write_rate_bytes_per_second", "RocksDB write rate while writes are slowed down (0 = no slowdown).", false),
        ["write_stopped"] = ("nfsgate_metadata_write_stopped", "1 while RocksDB has stopped writes (a write stall), else 0.", false),
    };

    public void Attach(GatewayMetrics metrics)
    {
        var counters = new Dictionary<string, CounterFeed>();
        var gauges = new Dictionary<string, Gauge>();
        var other = f.NewGauge("nfsgate_metadata_engine_stat", "Other statistics of the metadata engine, by name.", "stat");
        f.NewGauge("nfsgate_metadata_engine_info", "Always 1; the engine label names the metadata engine.", "engine").WithLabels(kv.Engine).Set(1);
        metrics.OnScrape(() =>
        {
            IReadOnlyDictionary<string, double> stats;
            try
            {
                stats = kv.Stats();
            }
            catch (ObjectDisposedException)
            {
                return; // shutting down: the last values stay
            }
            foreach (var (stat, value) in stats)
            {
                if (Known.TryGetValue(stat, out var k))
                {
                    if (k.Counter)
                    {
                        if (!counters.TryGetValue(stat, out var feed)) counters[stat] = feed = new CounterFeed(f.NewCounter(k.Name, k.Help));
                        feed.Update(value);
                    }
                    else
                    {
                        if (!gauges.TryGetValue(stat, out var g)) gauges[stat] = g = f.NewGauge(k.Name, k.Help);
                        g.Set(value);
                    }
                }
                else
                {
                    other.WithLabels(stat).Set(value);
                }
            }
        });
    }
}
