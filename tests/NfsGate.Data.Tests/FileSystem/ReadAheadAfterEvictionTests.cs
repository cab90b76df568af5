using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Read-ahead remembers the blocks it prefetched lately so overlapping readers do not ask twice. When those blocks
/// leave the cache (pressure, or `warmup --evict` as `make bench` does before its cold read), the next sequential
/// pass must prefetch them again: the file system here sits on the block cache itself, as in the gateway.
/// </summary>
// IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls the latter on a test class, so the file system kept running
// and the cache directory (40-80 MiB) stayed in /tmp after every run.
public sealed class ReadAheadAfterEvictionTests : IAsyncLifetime
{
    private const int Mi = 1 << 20;
    private const int Blocks = 8;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-ra-evict-").FullName;
    private readonly KeyCountingStore _inner = new(new MemoryObjectStore());
    private readonly CachingObjectStore _cache;
    private readonly MetadataStore _meta = new(new MemoryKvStore());
    private readonly GatewayFileSystem _fs;
    private readonly IFsVolume _vol;
    private readonly byte[] _data = FsHarness.Random(Blocks * Layout.BlockSize, 41);

    public ReadAheadAfterEvictionTests()
    {
        _cache = new CachingObjectStore(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = 256L << 20, FreeSpaceRatio = () => 0.5 });
        var options = FsHarness.Fast();
        options.ReadAheadConcurrency = 16;
        _fs = new GatewayFileSystem(_meta, _cache, options);
        _vol = _fs.Volume(_meta.GetOrCreateVolumeId("ra"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _fs.DisposeAsync();
        _meta.Dispose();
        await FsHarness.DeleteCacheDirAsync(_cache, _dir);
    }

    [Fact]
    public async Task A_second_pass_after_eviction_prefetches_again()
    {
        var created = _vol.Create(Credential.Root, INamespace.RootInode, "f", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
        Assert.Equal(FsStatus.Ok, created.Status);
        ulong ino = created.Obj!.Value.Inode;
        Assert.Equal(FsStatus.Ok, (await _vol.WriteAsync(Credential.Root, ino, 0, _data, StableHow.FileSync)).Status);
        var keys = new List<string>();
        await foreach (var (key, _) in _inner.ListAsync("chunks/")) keys.Add(key);
        Assert.Equal(Blocks, keys.Count);
        string[] ordered = [.. keys.OrderBy(k => int.Parse(k.Split('_')[^2]))];

        await Pass(ino, ordered);  // blocks are cached by the write; read-ahead remembers them as prefetched
        long issued = _fs.PrefetchesIssued;
        Assert.True(issued >= Blocks - 2);
        foreach (var k in ordered) Assert.True(_cache.Evict(k));
        _inner.Reset();
        long misses0 = _cache.Counters.Misses;

        await Pass(ino, ordered);  // waits for each block from the third on to arrive by prefetch
        Assert.True(_fs.PrefetchesIssued - issued >= Blocks - 2, $"prefetches in the second pass: {_fs.PrefetchesIssued - issued}");
        Assert.InRange(_cache.Counters.Misses - misses0, 1, 2); // block 0, and block 1 if its prefetch was late
        for (int b = 0; b < Blocks; b++) Assert.Equal(1, _inner.Gets(ordered[b]));
    }

    private async Task Pass(ulong ino, string[] keys)
    {
        var buf = new byte[Mi];
        for (int mi = 0; mi < Blocks * 4; mi++)
        {
            int block = mi / 4;
            if (mi % 4 == 0 && block >= 2)
            {
                var deadline = DateTime.UtcNow + Patience;
                while (!_cache.IsCached(keys[block]))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"block {block} was never prefetched");
                    await Task.Delay(5);
                }
            }
            var r = await _vol.ReadAsync(Credential.Root, ino, (ulong)mi * Mi, buf);
            Assert.Equal((FsStatus.Ok, Mi), (r.Status, r.Count));
            Assert.True(_data.AsSpan(mi * Mi, Mi).SequenceEqual(buf), $"data at {mi} MiB");
        }
    }
}
