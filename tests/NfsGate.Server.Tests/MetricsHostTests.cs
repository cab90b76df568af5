using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>GET /metrics on a real gateway (RocksDB, local object store, block cache) after NFS calls over TCP.</summary>
public sealed class MetricsHostTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-metrics-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config(string? dataDir = null, string extraJson = "") => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{dataDir ?? _dataDir}}",
          "exports": [ { "name": "teama", "path": "/" }, { "name": "quotes", "path": "/quotes", "readOnly": true } ]
          {{extraJson}}
        }
        """, "(test)", new Dictionary<string, string>(), []);

    [Fact]
    public async Task Connections_on_receive_threads_are_shown_and_given_back()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
        {
            await nfs.MountHandleAsync("/");
            var open = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
            Assert.True(open.Get("nfsgate_rpc_receive_threads") >= 1);
            Assert.Equal(open.Get("nfsgate_rpc_connections"), open.Get("nfsgate_rpc_receive_threads"));
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        while (m.Get("nfsgate_rpc_receive_threads") != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        }
        Assert.Equal(0, m.Get("nfsgate_rpc_receive_threads"));
    }

    [Fact]
    public async Task Nfs_calls_are_counted_by_export_procedure_and_status_with_their_bytes()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
        {
            var root = await nfs.MountHandleAsync("/");
            var created = await nfs.CreateAsync(root, "f.bin");
            Assert.Equal(NfsStat3.NFS3_OK, created.Status);
            var data = new byte[10_000];
            Random.Shared.NextBytes(data);
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.WriteAsync(created.Handle!, 0, data, StableHow3.FILE_SYNC)).Status);
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.WriteAsync(created.Handle!, 10_000, data.AsMemory(0, 2_000), StableHow3.UNSTABLE)).Status);
            var read = await nfs.ReadAsync(created.Handle!, 0, 1 << 20);
            Assert.Equal(12_000u, read.Count);
            Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await nfs.LookupAsync(root, "missing")).Status);
        }

        var m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        Assert.Equal(2, m.Get("nfsgate_nfs_requests_total", ("export", "teama"), ("proc", "WRITE"), ("status", "NFS3_OK")));
        Assert.Equal(1, m.Get("nfsgate_nfs_requests_total", ("export", "teama"), ("proc", "LOOKUP"), ("status", "NFS3ERR_NOENT")));
        Assert.Equal(12_000, m.Get("nfsgate_nfs_write_bytes_total", ("export", "teama")));
        Assert.Equal(12_000, m.Get("nfsgate_nfs_read_bytes_total", ("export", "teama")));
        Assert.Equal(12_000, m.Get("nfsgate_nfs_client_read_bytes_total", ("export", "teama"), ("client", "127.0.0.1")));
        Assert.Equal(2, m.Get("nfsgate_nfs_request_duration_seconds_count", ("export", "teama"), ("proc", "WRITE")));
        // The other export exists from the start, at zero.
        Assert.Equal(0, m.Get("nfsgate_nfs_read_bytes_total", ("export", "quotes")));
        Assert.Equal(0, m.Get("nfsgate_nfs_requests_in_flight", ("export", "teama")));
        // The FILE_SYNC write was committed inline (10,000 bytes: under writes' inline limit), then compaction moved it
        // into the object store (below the block cache) as one put of at least those bytes.
        Assert.True(m.Get("nfsgate_inline_bytes_total") >= 10_000);
        Assert.Equal(0, m.Get("nfsgate_inline_sweeps_total"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((m.Get("nfsgate_object_store_bytes_total", ("operation", "put")) ?? 0) < 10_000 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        }
        Assert.True(m.Get("nfsgate_object_store_requests_total", ("operation", "put")) >= 1);
        Assert.True(m.Get("nfsgate_object_store_bytes_total", ("operation", "put")) >= 10_000);
        Assert.True(m.Get("nfsgate_metadata_commits_total") > 0);
        // The FILE_SYNC write waited for a durable commit, and the time of its WAL fsync is counted.
        Assert.True(m.Get("nfsgate_metadata_durable_commits_total") >= 1);
        Assert.True(m.Get("nfsgate_metadata_sync_seconds_total") > 0);
        // The FILE_SYNC write waited for its file's group flush.
        Assert.Equal(1, m.Get("nfsgate_stable_writes_total"));
        Assert.Equal(1, m.Get("nfsgate_group_flushes_total"));
        Assert.True(m.Get("nfsgate_group_flush_seconds_total") > 0);
        // WRITEs are not quick: they went through the thread pool, and their wait there is counted.
        Assert.True(m.Get("nfsgate_rpc_pool_queued_calls_total") >= 2);
        Assert.True(m.Get("nfsgate_rpc_pool_queue_seconds_total") > 0);
        Assert.Equal(1, m.Get("nfsgate_metadata_engine_info", ("engine", "rocksdb")));
        Assert.Equal(1L << 30, m.Get("nfsgate_cache_capacity_bytes"));
        Assert.Equal(1, m.Get("nfsgate_cache_checksum_info", ("method", NfsGate.Data.Cache.Crc32C.Method)));
        Assert.True(m.Sum("nfsgate_rpc_requests_total", ("program", "mount"), ("procedure", "MNT")) >= 1);
        Assert.Equal(0, m.Get("nfsgate_qos_throttled_seconds_total", ("export", "teama")));
        // Only the 2,000-byte UNSTABLE write can be buffered (or none, if a background flush already took it).
        Assert.InRange(m.Get("nfsgate_write_buffer_bytes") ?? -1, 0, 2_000);
        Assert.Equal(new NfsGate.FileSystem.FileSystemOptions().MaxBufferBytes, m.Get("nfsgate_write_buffer_limit_bytes"));
        Assert.True(m.Get("process_cpu_seconds_total") > 0);
        Assert.True(m.Get("dotnet_gc_allocated_bytes_total") > 0);
    }

    [Fact]
    public async Task With_writes_inlineSize_0_a_small_stable_write_is_a_put_before_its_reply()
    {
        await using var host = await GatewayHost.StartAsync(Config(extraJson: """, "writes": { "inlineSize": "0" }"""), NullLoggerFactory.Instance, CancellationToken.None);
        await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
        {
            var created = await nfs.CreateAsync(await nfs.MountHandleAsync("/"), "f.bin");
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.WriteAsync(created.Handle!, 0, new byte[10_000], StableHow3.FILE_SYNC)).Status);
        }
        var m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        Assert.Equal(0, m.Get("nfsgate_inline_bytes_total"));
        Assert.Equal(10_000, m.Get("nfsgate_object_store_bytes_total", ("operation", "put")));
    }

    [Fact]
    public async Task A_forged_handle_is_counted_under_unknown_and_adds_no_export_label()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
        {
            var root = await nfs.MountHandleAsync("/");
            // Export id 77 that no export has, then a real export id with a broken MAC.
            var forged = (byte[])root.Clone();
            forged[1] = 0; forged[2] = 0; forged[3] = 0; forged[4] = 77;
            Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await nfs.GetAttrAsync(forged)).Status);
            var badMac = (byte[])root.Clone();
            badMac[^1] ^= 0xff;
            Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await nfs.GetAttrAsync(badMac)).Status);
        }

        var m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        Assert.Equal(2, m.Get("nfsgate_nfs_requests_total", ("export", "unknown"), ("proc", "GETATTR"), ("status", "NFS3ERR_BADHANDLE")));
        Assert.Equal(["quotes", "teama", "unknown"], m.LabelValues("nfsgate_nfs_requests_total", "export").Order());
    }

    [Fact]
    public async Task Metrics_of_two_gateways_in_one_process_stay_apart()
    {
        await using var a = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        string otherDir = _dataDir + "-b";
        try
        {
            await using var b = await GatewayHost.StartAsync(Config(otherDir, """, "cache": { "enabled": false }"""), NullLoggerFactory.Instance, CancellationToken.None);
            await using (var nfs = await Nfs3Client.ConnectAsync(a.NfsEndpoint!))
                await nfs.GetAttrAsync(await nfs.MountHandleAsync("/"));

            Assert.Equal(1, (await MetricsExposition.ScrapeAsync(a.HttpEndpoint!)).Get("nfsgate_nfs_requests_total", ("export", "teama"), ("proc", "GETATTR"), ("status", "NFS3_OK")));
            var mb = await MetricsExposition.ScrapeAsync(b.HttpEndpoint!);
            Assert.Equal(0, mb.Get("nfsgate_nfs_requests_total", ("export", "teama"), ("proc", "GETATTR"), ("status", "NFS3_OK")));
            Assert.Null(mb.Get("nfsgate_cache_capacity_bytes")); // b runs without a cache
        }
        finally
        {
            if (Directory.Exists(otherDir)) Directory.Delete(otherDir, recursive: true);
        }
    }
}
