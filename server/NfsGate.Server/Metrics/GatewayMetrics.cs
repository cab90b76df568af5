using Microsoft.Extensions.Logging;
using NfsGate.Data;
using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata.Kv;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.Server.Logging;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// Every series the gateway exposes on GET /metrics, in one registry per gateway (so two gateways in one process,
/// as in the tests, never mix their numbers). The hot paths push through observers (<see cref="Nfs"/>,
/// <see cref="Rpc"/>, <see cref="Instrument"/>); everything that already keeps its own counters (block cache,
/// metadata engine, writeback staging, QoS, connections) is read at scrape time, so it costs nothing between scrapes.
/// Process, GC and thread-pool series come from prometheus-net's process collector and <see cref="RuntimeMetrics"/>.
/// </summary>
public sealed class GatewayMetrics
{
    readonly IMetricFactory _f;
    readonly ObjectStoreMetrics _objects;
    readonly List<Action> _onScrape = [];
    readonly Lock _scrapeLock = new();

    public GatewayMetrics(ILoggerFactory loggerFactory, TimeSpan? slowOperationThreshold)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        _f = Prometheus.Metrics.WithCustomRegistry(Registry);
        DotNetStats.Register(Registry);
        RuntimeMetrics.Attach(this, _f);
        var slowLog = slowOperationThreshold is { } t ? new SlowOperationLog(loggerFactory.CreateLogger(SlowOperationLog.Category), t) : null;
        Nfs = new NfsMetrics(_f, new ClientLabels(), slowLog, logContext: loggerFactory is GatewayLogging);
        Rpc = new RpcMetrics(_f);
        _objects = new ObjectStoreMetrics(_f);
        _f.NewGauge("nfsgate_build_info", "Always 1; the version label says which nfsgate is running.", "version").WithLabels(Program.VersionText).Set(1);
        Registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Observer for <see cref="Nfs3Program.Observer"/>.</summary>
    public INfs3Observer Nfs { get; }

    /// <summary>Observer for <see cref="RpcDispatcher"/>.</summary>
    public IRpcObserver Rpc { get; }

    /// <summary>Wraps the object-store backend (below the block cache) so its traffic is measured.</summary>
    public IObjectStore Instrument(IObjectStore backend) => new InstrumentedObjectStore(backend, _objects);

    /// <summary>Creates the per-export series at zero for each export, so rates over them exist before the first call.</summary>
    public void AddExports(IEnumerable<string> exports)
    {
        foreach (var e in exports) ((NfsMetrics)Nfs).Touch(e);
    }

    public void AttachConnections(RpcServer server)
    {
        var g = _f.NewGauge("nfsgate_rpc_connections", "TCP connections open on the NFS/MOUNT listener.");
        var t = _f.NewGauge("nfsgate_rpc_receive_threads", "Connections served by a receive thread of their own (quick calls answered without a hop to the thread pool); the rest use the async loop.");
        var queued = new CounterFeed(_f.NewCounter("nfsgate_rpc_pool_queued_calls_total", "Calls handed from a connection to the thread pool (the rest were answered on the connection's receive thread)."));
        var waited = new CounterFeed(_f.NewCounter("nfsgate_rpc_pool_queue_seconds_total", "Time calls waited in the thread pool's queue before a thread took them, not part of nfsgate_nfs_request_duration_seconds; divided by nfsgate_rpc_pool_queued_calls_total, the wait per call (high: the server's cores are saturated)."));
        OnScrape(() =>
        {
            g.Set(server.ConnectionCount);
            t.Set(server.ReceiveThreadsInUse);
            queued.Update(server.PoolQueue.Calls);
            waited.Update(server.PoolQueue.Seconds);
        });
    }

    public void AttachCache(CachingObjectStore cache, long capacityBytes)
    {
        var c = cache.Counters;
        Feed("nfsgate_cache_hits_total", "Block-cache reads served from the cache.", () => c.Hits);
        Feed("nfsgate_cache_misses_total", "Block-cache reads that waited for the object store (single-flight waiters included).", () => c.Misses);
        Feed("nfsgate_cache_evictions_total", "Objects evicted from the block cache to make room.", () => c.Evictions);
        Feed("nfsgate_cache_checksum_failures_total", "Cached blocks whose checksum did not match (dropped and refetched).", () => c.ChecksumFailures);
        Feed("nfsgate_cache_fetches_total", "Whole-object fetches from the object store into the cache (one per single-flight group).", () => c.InnerFetches);
        Feed("nfsgate_cache_io_errors_total", "Cache files that could not be written or read (served from the object store instead).", () => c.IoErrors);
        Feed("nfsgate_cache_skipped_for_space_total", "Objects not cached because the cache disk was short of free space.", () => c.SkippedForSpace);
        Feed("nfsgate_cache_recycled_fills_total", "Cache files written over a dropped entry's kept file instead of a new one.", () => c.RecycledFills);
        Gauge("nfsgate_cache_used_bytes", "Bytes of cache files now indexed (headers included).", () => c.BytesCached);
        Gauge("nfsgate_cache_objects", "Objects in the block cache now.", () => c.Entries);
        var cap = _f.NewGauge("nfsgate_cache_capacity_bytes", "Configured block-cache size.");
        cap.Set(capacityBytes);
        // Every hit checks its segments' CRCs; what that costs per MB depends on the CPU's path (perf/README.md).
        _f.NewGauge("nfsgate_cache_checksum_info", "Always 1; the method label says how this CPU checks cache hits' CRC-32C.", "method")
            .WithLabels(Crc32C.Method).Set(1);
    }

    /// <summary>
    /// The file system's counters: read-ahead, slice compaction, and the writeback staging backlog (COMMITted bytes
    /// on local disk not yet uploaded; 0 in strict mode) against its cap, and the unstable-write buffer in memory
    /// against its cap (the backlog in strict mode).
    /// </summary>
    public void AttachFileSystem(GatewayFileSystem fs, FileSystemOptions options)
    {
        Feed("nfsgate_readahead_prefetches_total", "Block prefetches started by read-ahead.", () => fs.PrefetchesIssued);
        Feed("nfsgate_readahead_deferred_total", "Block prefetches deferred because enough were in flight.", () => fs.PrefetchesDeferred);
        Feed("nfsgate_compactions_total", "Fragmented chunks rewritten by slice compaction.", () => fs.Compactions);
        Feed("nfsgate_compaction_conflicts_total", "Compactions discarded because a write changed the chunk meanwhile.", () => fs.CompactionConflicts);
        Feed("nfsgate_inline_bytes_total", "Bytes of small flushes committed inline in the metadata (no object PUT while the client waits); compaction moves them into objects.", () => fs.InlineBytes);
        Feed("nfsgate_inline_sweeps_total", "Chunks whose inline bytes the sweep moved into objects because compaction had not.", () => fs.InlineSweeps);
        Feed("nfsgate_stable_writes_total", "FILE_SYNC/DATA_SYNC WRITEs that waited for their file's group flush; divided by nfsgate_group_flushes_total, the writes that share one flush.", () => fs.StableWrites);
        Feed("nfsgate_group_flushes_total", "Durable flushes run for stable WRITEs, one file at a time each, back to back.", () => fs.GroupFlushes);
        var groupSeconds = new CounterFeed(_f.NewCounter("nfsgate_group_flush_seconds_total", "Time those flushes took (upload or inline commit, then the WAL fsync); divided by nfsgate_group_flushes_total, what a stable WRITE waits for once its flush starts."));
        OnScrape(() => groupSeconds.Update(fs.GroupFlushSeconds));
        Gauge("nfsgate_staging_bytes", "Writeback staging backlog: COMMITted bytes on local disk not yet in the object store (0 in strict mode).", () => fs.StagedBytes);
        Gauge("nfsgate_staging_records", "Writeback records on local disk not yet uploaded (0 in strict mode).", () => fs.StagedRecords);
        _f.NewGauge("nfsgate_staging_limit_bytes", "Cap on the writeback staging backlog (writes.stagingSize).").Set(options.MaxStagingBytes);
        Gauge("nfsgate_write_buffer_bytes", "UNSTABLE write bytes buffered in memory, not yet flushed to the object store.", () => fs.BufferedBytes);
        _f.NewGauge("nfsgate_write_buffer_limit_bytes", "Cap on buffered UNSTABLE write bytes; writers over it wait, then get JUKEBOX.").Set(options.MaxBufferBytes);
    }

    /// <summary>Metadata engine statistics (IKvStore.Stats): RocksDB sizes, compaction backlog, write stalls.</summary>
    public void AttachMetadata(IKvStore kv) => new MetadataMetrics(_f, kv).Attach(this);

    /// <summary>QoS of the NFS program's engine (read at scrape time, so an engine attached later is seen too).</summary>
    public void AttachQos(Func<Protocol.Qos.QosEngine?> engine, Func<IEnumerable<string>> exports) => new QosMetrics(_f, engine, exports).Attach(this);

    /// <summary>Gateways seen alive in the shared metadata engine, and this node's part of every QoS cap (1/live).</summary>
    public void AttachMembership(Func<int> liveNodes, Func<double> qosShare)
    {
        Gauge("nfsgate_cluster_live_nodes", "Gateways whose heartbeat in the shared metadata engine is recent.", () => liveNodes());
        var share = _f.NewGauge("nfsgate_qos_share_ratio", "This gateway's part of every QoS cap: 1 / live gateways.");
        OnScrape(() => share.Set(qosShare()));
    }

    internal void OnScrape(Action update)
    {
        lock (_scrapeLock) _onScrape.Add(update);
    }

    void Feed(string name, string help, Func<long> source)
    {
        var feed = new CounterFeed(_f.NewCounter(name, help));
        OnScrape(() => feed.Update(source()));
    }

    void Gauge(string name, string help, Func<long> source)
    {
        var g = _f.NewGauge(name, help);
        OnScrape(() => g.Set(source()));
    }

    // Under the lock: two scrapes at once (two Prometheus servers) must not both apply one delta of a CounterFeed.
    void Collect()
    {
        lock (_scrapeLock)
        {
            foreach (var update in _onScrape) update();
        }
    }
}
