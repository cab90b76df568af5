using NfsGate.Data;
using NfsGate.Data.Cache;
using NfsGate.Data.S3;

namespace NfsGate.Data.Tests.S3;

/// <summary>What the contract does not cover, against the real S3 server.</summary>
[Collection(S3CephCollection.Name)]
public sealed class S3ObjectStoreTests(S3CephFixture s3)
{
    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static async Task<List<(string Key, long Size)>> List(IObjectStore s, string prefix)
    {
        var all = new List<(string, long)>();
        await foreach (var item in s.ListAsync(prefix)) all.Add(item);
        return all;
    }

    [S3Fact]
    public async Task Prefixes_isolate_stores_sharing_a_bucket()
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        using var a = new S3ObjectStore(s3.Options($"iso-{unique}/a")); // the missing '/' is added
        using var b = new S3ObjectStore(s3.Options($"iso-{unique}/b/"));
        using var parent = new S3ObjectStore(s3.Options($"iso-{unique}"));
        await a.PutAsync("k", Data(10, 1));
        await b.PutAsync("k", Data(20, 2));

        Assert.Equal(Data(10, 1), await Read(a, "k", 10));
        Assert.Equal([("k", 10L)], await List(a, ""));
        Assert.Equal([("k", 20L)], await List(b, ""));
        Assert.Equal([("a/k", 10L), ("b/k", 20L)], await List(parent, ""));
        Assert.Equal(20, await parent.HeadAsync("b/k"));
        Assert.Contains(s3.Bucket, a.Describe());
        Assert.Contains($"iso-{unique}/a/", a.Describe());
    }

    private static async Task<byte[]> Read(IObjectStore s, string key, int length)
    {
        var buf = new byte[length];
        int n = await s.GetAsync(key, 0, buf);
        return buf[..n];
    }

    [S3Fact]
    public async Task List_follows_continuation_tokens()
    {
        var store = s3.NewStore(o => o with { ListPageSize = 3 });
        var keys = Enumerable.Range(0, 10).Select(i => $"p/{i:D2}").ToArray();
        await Task.WhenAll(keys.Select((k, i) => store.PutAsync(k, new byte[i]).AsTask()));
        await store.PutAsync("q/outside", new byte[1]);

        var listed = await List(store, "p/");
        Assert.Equal(keys, listed.Select(x => x.Key));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), listed.Select(x => x.Size));
        Assert.True(store.Requests >= 11 + 4); // 11 PUTs, then 4 pages of at most 3 keys
    }

    [S3Fact]
    public async Task Wrong_credentials_fail_without_retries()
    {
        using var store = new S3ObjectStore(s3.Options("creds/") with { SecretKey = "not-the-secret" });
        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.PutAsync("k", new byte[10]));
        Assert.IsNotType<ObjectNotFoundException>(e);
        Assert.Equal(0, store.Retries);
        Assert.Equal(1, store.Requests);
    }

    [S3Fact]
    public async Task A_missing_bucket_is_an_error_unless_creation_is_asked_for()
    {
        var bucket = $"nfsgate-missing-{Guid.NewGuid().ToString("N")[..12]}";
        using var plain = new S3ObjectStore(s3.Options() with { Bucket = bucket });
        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await plain.PutAsync("k", new byte[1]));
        Assert.IsNotType<ObjectNotFoundException>(e);
        Assert.Equal(0, plain.Retries);

        using var creating = new S3ObjectStore(s3.Options() with { Bucket = bucket, CreateBucketIfMissing = true });
        await creating.PutAsync("k", Data(5, 3));
        Assert.Equal(Data(5, 3), await Read(creating, "k", 5));
        Assert.Equal(Data(5, 3), await Read(plain, "k", 5)); // it exists for everyone now
        await creating.EnsureBucketAsync(); // idempotent
        await creating.DeleteAsync("k");
        using var client = new Amazon.S3.AmazonS3Client(s3.AccessKey, s3.SecretKey, new Amazon.S3.AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = s3.Region });
        await client.DeleteBucketAsync(bucket);
    }

    [S3Fact]
    public async Task A_storage_class_is_sent_with_each_put()
    {
        var store = s3.NewStore(o => o with { StorageClass = "STANDARD" });
        await store.PutAsync("k", Data(100, 4));
        Assert.Equal(Data(100, 4), await Read(store, "k", 100));

        var bogus = s3.NewStore(o => o with { StorageClass = "NO_SUCH_CLASS" });
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await bogus.PutAsync("k", Data(100, 4)));
        Assert.Equal(0, bogus.Retries);
    }

    [S3Fact]
    public async Task Concurrent_ranged_gets_of_a_4_MiB_block()
    {
        var store = s3.NewStore(o => o with { MaxConcurrency = 4 });
        var block = Data(4 << 20, 5);
        await store.PutAsync("chunks/0/0/9_0_4194304", block);
        var reads = Enumerable.Range(0, 16).Select(async i =>
        {
            var buf = new byte[256 << 10];
            int n = await store.GetAsync("chunks/0/0/9_0_4194304", i * (256L << 10), buf);
            Assert.Equal(buf.Length, n);
            Assert.Equal(block.AsSpan(i * (256 << 10), 256 << 10).ToArray(), buf);
        });
        await Task.WhenAll(reads);
    }

    [S3Fact]
    public async Task The_block_cache_in_front_of_S3_is_warm_after_a_restart()
    {
        var dir = Directory.CreateTempSubdirectory("nfsgate-s3cache-").FullName;
        try
        {
            var store = s3.NewStore();
            var options = new BlockCacheOptions { Path = dir, SizeBytes = 64 << 20, FreeSpaceRatio = () => 0.5 };
            var written = Data(1 << 20, 6);
            var direct = Data(300_000, 7);
            await store.PutAsync("direct", direct); // behind the cache's back

            var cache = new CachingObjectStore(store, options);
            await cache.PutAsync("written", written);
            var buf = new byte[1000];
            Assert.Equal(500, await cache.GetAsync("direct", 299_500, buf));
            Assert.Equal(direct[299_500..], buf[..500]);
            Assert.Equal((1L, 1L), (cache.Counters.Misses, cache.Counters.InnerFetches));
            await cache.SettleAsync(); // the miss was answered before its cache file was written

            long requests = store.Requests;
            var again = new CachingObjectStore(store, options);
            Assert.Equal(1000, await again.GetAsync("written", 5000, buf));
            Assert.Equal(written[5000..6000], buf);
            Assert.Equal(1000, await again.GetAsync("direct", 0, buf));
            Assert.Equal(direct[..1000], buf);
            Assert.Equal((2L, 0L), (again.Counters.Hits, again.Counters.Misses));
            Assert.Equal(requests, store.Requests); // not one request to S3
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
