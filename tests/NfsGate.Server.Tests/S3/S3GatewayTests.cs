using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests.S3;

/// <summary>The real gateway in-process on 127.0.0.1:0 with its blocks in a real S3 bucket (Ceph RGW via s3-ceph).</summary>
[Collection(S3CephServerCollection.Name)]
public sealed class S3GatewayTests(S3CephServer s3) : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-s3host-{Guid.NewGuid():N}");
    readonly string _prefix = $"gw-{Guid.NewGuid().ToString("N")[..8]}/";

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config() => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}",
          "objectStore": {
            "type": "s3", "endpoint": "{{s3.Endpoint}}", "bucket": "{{s3.Bucket}}", "region": "{{s3.Region}}",
            "prefix": "{{_prefix}}", "accessKey": "{{s3.AccessKey}}", "secretKey": "{{s3.SecretKey}}",
            "createBucket": true, "maxRetries": 2, "requestTimeout": "30s"
          },
          "cache": { "size": "256MiB", "minFreeRatio": 0 }
        }
        """, "(test)", new Dictionary<string, string>(), []);

    [S3Fact]
    public async Task Committed_data_is_read_back_from_s3_after_a_restart_without_the_cache()
    {
        // 9 MiB + 123 bytes: two full 4 MiB blocks and a short one, written as unstable 1 MiB WRITEs like a kernel client.
        var data = new byte[(9 << 20) + 123];
        new Random(1813).NextBytes(data);
        var config = Config();

        await using (var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None))
        {
            await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
            var root = await nfs.MountHandleAsync("/");
            var created = await nfs.CreateAsync(root, "big.bin");
            Assert.Equal(NfsStat3.NFS3_OK, created.Status);
            for (int offset = 0; offset < data.Length; offset += 1 << 20)
            {
                int n = Math.Min(1 << 20, data.Length - offset);
                var w = await nfs.WriteAsync(created.Handle!, (ulong)offset, data.AsMemory(offset, n), StableHow3.UNSTABLE);
                Assert.Equal(NfsStat3.NFS3_OK, w.Status);
                Assert.Equal((uint)n, w.Count);
            }
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.CommitAsync(created.Handle!)).Status);
            Assert.Equal(HttpStatusCode.OK, await ReadyStatus(host.HttpEndpoint!));
        }

        // The bucket holds the blocks under the prefix, and together they are at least the file.
        using (var direct = s3.Direct(_prefix))
        {
            var blocks = new List<(string Key, long Size)>();
            await foreach (var o in direct.ListAsync("chunks/")) blocks.Add(o);
            Assert.True(blocks.Count >= 3, $"expected at least 3 block objects, found {blocks.Count}");
            Assert.True(blocks.Sum(b => b.Size) >= data.Length);
        }

        // Without the cache directory every byte must come from S3.
        Directory.Delete(config.Cache.Path, recursive: true);
        await using (var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None))
        {
            await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
            var root = await nfs.MountHandleAsync("/");
            var found = await nfs.LookupAsync(root, "big.bin");
            Assert.Equal(NfsStat3.NFS3_OK, found.Status);
            Assert.Equal((ulong)data.Length, found.Attr!.Size);
            var back = new byte[data.Length];
            int at = 0;
            while (at < data.Length)
            {
                var r = await nfs.ReadAsync(found.Handle!, (ulong)at, 1 << 20);
                Assert.Equal(NfsStat3.NFS3_OK, r.Status);
                Assert.True(r.Count > 0, $"short read at {at}");
                r.Data.CopyTo(back, at);
                at += (int)r.Count;
            }
            Assert.Equal(data, back);
            // The reads went through the cache again, so it is warm.
            Assert.NotEmpty(Directory.EnumerateFiles(config.Cache.Path, "*", SearchOption.AllDirectories));
        }
    }

    static async Task<HttpStatusCode> ReadyStatus(IPEndPoint http)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://{http}/readyz");
        return response.StatusCode;
    }
}
