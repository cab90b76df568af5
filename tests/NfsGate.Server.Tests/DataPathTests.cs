using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>How the composition builds the data path: the block cache over the local store, on or off; S3 readiness.</summary>
public sealed class DataPathTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-datapath-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config(string extraJson) => ConfigLoader.Parse($$"""
        { "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}" {{extraJson}} }
        """, "(test)", new Dictionary<string, string>(), []);

    static async Task WriteFile(IPEndPoint nfsEndpoint, string name, byte[] data)
    {
        await using var nfs = await Nfs3Client.ConnectAsync(nfsEndpoint);
        var root = await nfs.MountHandleAsync("/");
        var created = await nfs.CreateAsync(root, name);
        Assert.Equal(NfsStat3.NFS3_OK, created.Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.WriteAsync(created.Handle!, 0, data, StableHow3.UNSTABLE)).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.CommitAsync(created.Handle!)).Status);
    }

    static int FilesUnder(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count() : 0;

    [Fact]
    public async Task The_cache_keeps_committed_blocks_over_the_local_store_by_default()
    {
        var config = Config("");
        Assert.True(config.Cache.IsActive);
        var log = new ListLogger();
        using var logs = new LoggerFactory([new ListLoggerProvider(log)]);
        await using (var host = await GatewayHost.StartAsync(config, logs, CancellationToken.None))
        {
            await WriteFile(host.NfsEndpoint!, "a.bin", new byte[100_000]);
            // The cache holds the copy reads want in memory, so the store's copy is written with O_DIRECT.
            Assert.True(((NfsGate.Data.LocalDirObjectStore)host.Backend!).DirectPuts > 0);
        }
        // The check's cost per MB read depends on the CPU's path: the startup log names it.
        Assert.Contains(log.Lines, l => l.Message == $"data path: every cache hit checks its segments' CRC-32C by {NfsGate.Data.Cache.Crc32C.Method}");
        Assert.True(FilesUnder(config.ObjectStore.Path) > 0);
        Assert.True(FilesUnder(config.Cache.Path) > 0);
    }

    [Theory]
    [InlineData(""", "cache": { "enabled": false }""")]
    [InlineData(""", "cache": { "size": 0 }""")]
    public async Task A_disabled_cache_creates_nothing(string cacheJson)
    {
        var config = Config(cacheJson);
        Assert.False(config.Cache.IsActive);
        await using (var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None))
        {
            await WriteFile(host.NfsEndpoint!, "a.bin", new byte[100_000]);
            // Without a cache the store's files are what reads find in the page cache: written buffered.
            Assert.Equal(0, ((NfsGate.Data.LocalDirObjectStore)host.Backend!).DirectPuts);
        }
        Assert.True(FilesUnder(config.ObjectStore.Path) > 0);
        Assert.False(Directory.Exists(config.Cache.Path));
    }

    [Fact]
    public async Task Readyz_reports_an_unreachable_s3_endpoint()
    {
        // A port nothing listens on: connections are refused at once, and no retries keep the probe short.
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        int port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var config = Config($$"""
            , "objectStore": { "type": "s3", "endpoint": "http://127.0.0.1:{{port}}", "bucket": "nowhere", "accessKey": "a", "secretKey": "s", "maxRetries": 0 }
            """);
        await using var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None);
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://{host.HttpEndpoint}/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("object store", await response.Content.ReadAsStringAsync());
    }
}
