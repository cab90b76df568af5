using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NfsGate.Data;
using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.Server.Config;
using NfsGate.Server.Metrics;

namespace NfsGate.Server.Hosting;

/// <summary>
/// The composition root: opens the engines, builds the layers bottom-up (metadata, object store — local or S3 —
/// with the block cache over it (both opened by <see cref="StoreOpener"/>), file system, exports, NFS/MOUNT/portmapper programs), starts the listeners.
/// Disposal runs top-down: listeners first (no new work), then the file system flushes buffered writes, then the
/// S3 client and the metadata close.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    /// <summary>Key probed by /readyz; any answer (found or not) proves the engine responds.</summary>
    const string ReadinessKey = "nfsgate-readyz-probe";

    readonly ILogger _log;
    readonly Stack<(string Name, Func<ValueTask> Stop)> _stops = new();

    GatewayHost(ILogger log) => _log = log;

    public IPEndPoint? NfsEndpoint { get; private set; }
    /// <summary>Null when the portmapper is off or its port could not be bound.</summary>
    public IPEndPoint? PortmapEndpoint { get; private set; }
    public IPEndPoint? HttpEndpoint { get; private set; }
    public ExportTable Exports { get; } = new();
    /// <summary>Runtime changes to the exports (admin API, SIGHUP).</summary>
    public ExportAdmin ExportAdmin { get; private set; } = null!;
    /// <summary>Null when the cache is off.</summary>
    public CachingObjectStore? BlockCache { get; private set; }
    /// <summary>The object store itself, under the metrics and the block cache (set once started).</summary>
    public IObjectStore? Backend { get; private set; }
    /// <summary>Per-export QoS (set once started).</summary>
    public QosAdmin Qos { get; private set; } = null!;
    /// <summary>What GET /metrics exposes (Metrics/GatewayMetrics.cs).</summary>
    public GatewayMetrics? Metrics { get; private set; }
    /// <summary>This node's heartbeat in the shared metadata engine and the live node count (Membership.cs).</summary>
    public Membership? Membership { get; private set; }

    public static async Task<GatewayHost> StartAsync(GatewayConfig config, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var host = new GatewayHost(loggerFactory.CreateLogger("NfsGate.Server"));
        try
        {
            await host.StartCoreAsync(config, loggerFactory, ct);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    async Task StartCoreAsync(GatewayConfig config, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        _log.LogInformation("nfsgate {Version} starting, data dir {DataDir}", Program.VersionText, config.DataDir);
        Directory.CreateDirectory(config.DataDir);

        IKvStore kv = StoreOpener.OpenMetadata(config.Metadata);
        var meta = new MetadataStore(kv, loggerFactory.CreateLogger<MetadataStore>());
        _stops.Push(("metadata", () => { meta.Dispose(); return ValueTask.CompletedTask; }));
        var metrics = Metrics = new GatewayMetrics(loggerFactory, config.Log.SlowOperation);
        metrics.AttachMetadata(kv);
        _log.LogInformation("metadata: {Engine} at {Path}", kv.Engine, config.Metadata.Engine switch
        {
            MetadataEngine.Memory => "(memory)",
            MetadataEngine.Postgres => MetadataConnection.Masked(config.Metadata.ConnectionString),
            _ => config.Metadata.Path,
        });

        // A local store behind a block cache writes with O_DIRECT: the cache holds the copy that reads want in memory.
        IObjectStore backend = await StoreOpener.OpenBackendAsync(config.ObjectStore, prepare: true, loggerFactory, ct, directWrites: config.Cache.IsActive);
        Backend = backend;
        if (backend is IDisposable client)
            _stops.Push(("object store", () => { client.Dispose(); return ValueTask.CompletedTask; }));
        IObjectStore measured = metrics.Instrument(backend), store = measured;
        CachingObjectStore? blockCache = null;
        if (config.Cache.IsActive)
        {
            var cache = blockCache = new CachingObjectStore(measured, new BlockCacheOptions
            {
                Path = config.Cache.Path,
                SizeBytes = config.Cache.SizeBytes,
                MinFreeRatio = config.Cache.MinFreeRatio,
            });
            store = cache;
            BlockCache = cache;
            metrics.AttachCache(cache, config.Cache.SizeBytes);
            _log.LogInformation("data path: {Backend}, block cache {CachePath} ({CacheSize}, {Blocks} blocks cached now, keeps {MinFree:P0} of its disk free)",
                backend.Describe(), config.Cache.Path, ByteSize.Format(config.Cache.SizeBytes), cache.Counters.Entries, config.Cache.MinFreeRatio);
            _log.LogInformation("data path: every cache hit checks its segments' CRC-32C by {CrcMethod}", Crc32C.Method);
            if (backend is LocalDirObjectStore { WritesDirect: true })
                _log.LogInformation("data path: the local store writes its objects with O_DIRECT; the block cache holds the copy reads find in memory");
        }
        else
        {
            _log.LogInformation("data path: {Backend}, no block cache", backend.Describe());
        }

        var fsOptions = new FileSystemOptions { CommitMode = config.Writes.CommitMode, StagingPath = config.Writes.StagingPath, MaxStagingBytes = config.Writes.StagingSize, StagingDrainTimeout = config.Writes.StagingDrainTimeout, CompactUploadConcurrency = config.Writes.CompactUploadConcurrency, InlineMaxBytes = (int)config.Writes.InlineSize };
        if (fsOptions.CommitMode == CommitMode.Writeback)
            _log.LogWarning("writes.commitMode writeback: COMMITted data may live only in {StagingPath} until uploaded", fsOptions.StagingPath);
        var fs = new GatewayFileSystem(meta, store, fsOptions, loggerFactory.CreateLogger<GatewayFileSystem>());
        _stops.Push(("file system", async () =>
        {
            await fs.FlushAllAsync();
            await fs.DisposeAsync();
        }));

        // Client rules, quotas, trash and runtime changes: ExportAdmin.cs.
        ExportAdmin = new ExportAdmin(Exports, meta, fs, loggerFactory.CreateLogger<ExportAdmin>());
        ExportAdmin.Apply(config.Exports);
        _stops.Push(("trash purger", ExportAdmin.StartTrashPurger()));
        // Bandwidth and IOPS caps per export, runtime overrides in DATADIR/qos-state.json: QosAdmin.cs.
        Qos = QosAdmin.Open(config, Exports, _log);
        _stops.Push(("qos", () => { Qos.Dispose(); return ValueTask.CompletedTask; }));
        var codec = new FileHandleCodec(meta.GetOrCreateSecret());

        var dispatcher = new RpcDispatcher(loggerFactory.CreateLogger<RpcDispatcher>(), observer: metrics.Rpc, new DuplicateRequestCache());
        var nfs3 = new Nfs3Program(Exports, fs, codec, new Nfs3Options { Capacity = StoreOpener.LocalCapacity(backend) }, loggerFactory.CreateLogger<Nfs3Program>()) { Observer = metrics.Nfs, Qos = Qos.Engine };
        dispatcher.Register(nfs3);
        metrics.AddExports(Exports.All.Select(e => e.Name));
        metrics.AttachQos(() => nfs3.Qos, () => Exports.All.Select(e => e.Name));
        metrics.AttachFileSystem(fs, fsOptions);
        dispatcher.Register(new MountProgram(Exports, codec, loggerFactory.CreateLogger<MountProgram>()));
        var nfs = new RpcServer(dispatcher, new RpcServerOptions { TrustedProxies = config.ProxyProtocol.TrustedSources }, loggerFactory);
        nfs.Start(config.Listen);
        _stops.Push(("nfs listener", nfs.DisposeAsync));
        NfsEndpoint = nfs.LocalEndPoints[0];
        metrics.AttachConnections(nfs);
        _log.LogInformation("nfs + mount: listening on {Endpoint}", Config.Endpoint.Format(NfsEndpoint));

        if (config.Portmapper is { } pmapEndpoint)
            StartPortmapper(pmapEndpoint, NfsEndpoint.Port, loggerFactory);

        if (config.Http is { } httpEndpoint)
        {
            var warmup = new Warmup(Exports, meta.OpenVolume, blockCache);
            var http = await HealthServer.StartAsync(httpEndpoint, probeCt => ReadinessProblemAsync(kv, backend, probeCt), loggerFactory, ct,
                routes => { AdminApi.Map(routes, warmup); ExportAdminApi.Map(routes, ExportAdmin); QosAdminApi.Map(routes, Qos); }, metrics);
            _stops.Push(("http listener", http.DisposeAsync));
            HttpEndpoint = http.Endpoint;
            _log.LogInformation("http: listening on {Endpoint} (/healthz, /readyz, POST /admin/warmup)", Config.Endpoint.Format(http.Endpoint));
        }
        string nfsAddress = Config.Endpoint.Format(NfsEndpoint);
        Membership = Membership.Start(kv, Membership.DefaultNodeId(nfsAddress), nfsAddress, HttpEndpoint is null ? null : Config.Endpoint.Format(HttpEndpoint), _log);
        _stops.Push(("membership", Membership.DisposeAsync));
        // Each live gateway enforces 1/N of every QoS cap, so the cluster as a whole delivers the cap whichever node
        // a client's connection lands on. Rebalanced at every heartbeat that sees a node join or leave.
        var qosEngine = Qos.Engine;
        Membership.LiveNodesChanged += live => qosEngine.Share = ShareOf(live);
        qosEngine.Share = ShareOf(Membership.LiveNodes);
        metrics.AttachMembership(() => Membership.LiveNodes, () => qosEngine.Share);
        _log.LogInformation("ready");
    }

    static double ShareOf(int liveNodes) => 1.0 / Math.Max(1, liveNodes);

    /// <summary>Port 111 needs root (or CAP_NET_BIND_SERVICE) and may already belong to rpcbind: then clients mount with port= and mountport=.</summary>
    void StartPortmapper(IPEndPoint endpoint, int nfsPort, ILoggerFactory loggerFactory)
    {
        var dispatcher = new RpcDispatcher(loggerFactory.CreateLogger<RpcDispatcher>());
        dispatcher.Register(new PortmapProgram(nfsPort, endpoint.Port));
        var server = new RpcServer(dispatcher, new RpcServerOptions(), loggerFactory);
        try
        {
            server.Start(endpoint);
        }
        catch (SocketException e)
        {
            _log.LogWarning("portmapper: cannot listen on {Endpoint} ({Error}); running without it, so clients must mount with -o port={Port},mountport={Port}",
                Config.Endpoint.Format(endpoint), e.Message, nfsPort, nfsPort);
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return;
        }
        _stops.Push(("portmapper listener", server.DisposeAsync));
        PortmapEndpoint = server.LocalEndPoints[0];
        _log.LogInformation("portmapper: listening on {Endpoint}", Config.Endpoint.Format(PortmapEndpoint));
    }

    static async Task<string?> ReadinessProblemAsync(IKvStore kv, IObjectStore store, CancellationToken ct)
    {
        try
        {
            kv.Read(r => r.Get(System.Text.Encoding.ASCII.GetBytes(ReadinessKey)));
        }
        catch (Exception e)
        {
            return $"metadata: {e.Message}";
        }
        try
        {
            await store.HeadAsync(ReadinessKey, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"object store: {e.Message}";
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        while (_stops.TryPop(out var step))
        {
            try
            {
                await step.Stop();
                _log.LogDebug("stopped {Step}", step.Name);
            }
            catch (Exception e)
            {
                // Keep going: a listener that fails to stop must not keep buffered data from being flushed.
                _log.LogError(e, "shutdown: stopping {Step} failed: {Message}", step.Name, e.Message);
            }
        }
    }
}
