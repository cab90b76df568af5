using Amazon.S3;
using Amazon.S3.Model;
using NfsGate.Data.S3;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;

namespace NfsGate.Data.Tests.S3;

/// <summary>
/// exports[].storageClass end to end on real S3 (Ceph RGW with STANDARD_IA defined, see <see cref="ColdClassGateway"/>):
/// the blocks of the cold volume are stored in STANDARD_IA, as ListObjectsV2 and HeadObject report, the others in
/// STANDARD, and both read back.
/// </summary>
[Collection(S3CephCollection.Name)]
public sealed class S3StorageClassTests(S3CephFixture s3)
{
    [S3Fact]
    public async Task Blocks_of_the_cold_volume_are_stored_in_its_class()
    {
        await using var rgw = await ColdClassGateway.StartAsync();
        string prefix = $"sc-{Guid.NewGuid():N}/";
        using var store = new S3ObjectStore(s3.Options(prefix) with { Endpoint = rgw.Endpoint });
        using var meta = new MetadataStore(new MemoryKvStore());
        var fs = new GatewayFileSystem(meta, store, new FileSystemOptions { CompactSliceCount = 0 });
        try
        {
            uint hotId = meta.GetOrCreateVolumeId("hot"), coldId = meta.GetOrCreateVolumeId("cold");
            fs.SetStorageClass(coldId, ColdClassGateway.StorageClass);
            var hotData = Random(5 << 20, 1);
            var coldData = Random(5 << 20, 2);
            var (hot, hotIno) = await WriteFileAsync(fs, hotId, hotData);
            var hotKeys = (await ListAsync(prefix)).Select(o => o.Key).ToHashSet();
            var (cold, coldIno) = await WriteFileAsync(fs, coldId, coldData);

            var all = await ListAsync(prefix);
            Assert.Equal(4, all.Count); // 5 MiB = one 4 MiB block and a 1 MiB one, per file
            Assert.Equal(2, hotKeys.Count);
            foreach (var o in all)
                Assert.Equal(hotKeys.Contains(o.Key) ? "STANDARD" : ColdClassGateway.StorageClass, o.StorageClass?.Value);
            using var client = Client(rgw.Endpoint);
            foreach (var o in all.Where(o => !hotKeys.Contains(o.Key)))
            {
                var head = await client.GetObjectMetadataAsync(s3.Bucket, o.Key);
                Assert.Equal(ColdClassGateway.StorageClass, head.StorageClass?.Value);
            }

            Assert.Equal(hotData, await ReadAsync(hot, hotIno, hotData.Length));
            Assert.Equal(coldData, await ReadAsync(cold, coldIno, coldData.Length));
        }
        finally
        {
            await fs.DisposeAsync();
            await foreach (var (key, _) in store.ListAsync("")) await store.DeleteAsync(key);
        }
    }

    private static async Task<(IFsVolume, ulong)> WriteFileAsync(GatewayFileSystem fs, uint volumeId, byte[] data)
    {
        var vol = fs.Volume(volumeId);
        var created = vol.Create(Credential.Root, INamespace.RootInode, "f", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
        Assert.Equal(FsStatus.Ok, created.Status);
        ulong ino = created.Obj!.Value.Inode;
        Assert.Equal(FsStatus.Ok, (await vol.WriteAsync(Credential.Root, ino, 0, data, StableHow.Unstable)).Status);
        Assert.Equal(FsStatus.Ok, (await vol.CommitAsync(Credential.Root, ino)).Status);
        return (vol, ino);
    }

    private static async Task<byte[]> ReadAsync(IFsVolume vol, ulong ino, int length)
    {
        var buf = new byte[length];
        int total = 0;
        while (total < length)
        {
            var res = await vol.ReadAsync(Credential.Root, ino, (ulong)total, buf.AsMemory(total, Math.Min(1 << 20, length - total)));
            Assert.Equal(FsStatus.Ok, res.Status);
            Assert.True(res.Count > 0);
            total += res.Count;
        }
        return buf;
    }

    /// <summary>ListObjectsV2 as sent to the shared gateway: the class is stored with the object, not per gateway.</summary>
    private async Task<List<S3Object>> ListAsync(string prefix)
    {
        using var client = Client(s3.Endpoint);
        var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = s3.Bucket, Prefix = prefix });
        return page.S3Objects ?? [];
    }

    private AmazonS3Client Client(string endpoint) => new(s3.AccessKey, s3.SecretKey, new AmazonS3Config
    {
        ServiceURL = endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = s3.Region,
    });

    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }
}
