using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Read-ahead end to end: the file system over the real block cache over a store that counts what reaches it.
/// Prefetches are issued synchronously inside READ, so "none were asked for" needs no waiting; "it arrived in the
/// cache" is polled with a generous timeout.
/// </summary>
public sealed class ReadAheadTests
{
    private const int Mi = 1 << 20;
    private const int Blocks = 10; // a 40 MiB file: one slice of ten 4 MiB blocks
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SequentialReadsPrefetchTheFollowingBlocksAndFetchEachOnce()
    {
        var options = FsHarness.Fast();
        options.ReadAheadConcurrency = 16; // no deferrals: every block is asked for as soon as it enters the window
        await using var r = await Rig.CreateAsync(options);

        for (int mi = 0; mi < Blocks * 4; mi++)
        {
            int block = mi / 4;
            // From the third block on, the block is in the cache before its first READ: prefetched, not fetched by it.
            if (mi % 4 == 0 && block >= 2) await r.WaitCachedAsync(block);
            await r.ReadAndCheckAsync((long)mi * Mi, Mi);
            if (mi == 1) Assert.Equal(1, r.Spy.Prefetches(r.Keys[1])); // the second READ already asked for the next block
        }

        for (int b = 0; b < Blocks; b++) Assert.Equal(1, r.Inner.Gets(r.Keys[b]));
        for (int b = 0; b < Blocks; b++) Assert.InRange(r.Spy.Prefetches(r.Keys[b]), b < 2 ? 0 : 1, 1);
        Assert.Equal(Blocks, r.Inner.TotalGets);
        long hits = r.Cache.Counters.Hits - r.Hits0, misses = r.Cache.Counters.Misses - r.Misses0;
        Assert.Equal(Blocks * 4, hits + misses);
        Assert.InRange(misses, 1, 2); // block 0, and block 1 only if its prefetch was still on the way
        Assert.True(r.Fs.PrefetchesIssued >= Blocks - 1);
        Assert.Equal(0, r.Fs.PrefetchesDeferred);
    }

    [Fact]
    public async Task RandomReadsCauseNoReadAhead()
    {
        await using var r = await Rig.CreateAsync(FsHarness.Fast());
        // Every READ starts more than a block away from where any earlier one ended.
        int[] at = [21, 6, 33, 13, 28, 0, 39];
        foreach (int mi in at) await r.ReadAndCheckAsync((long)mi * Mi, Mi);

        Assert.Equal(0, r.Spy.TotalPrefetches);
        Assert.Equal(0, r.Fs.PrefetchesIssued);
        var touched = at.Select(mi => mi / 4).ToHashSet();
        for (int b = 0; b < Blocks; b++) Assert.Equal(touched.Contains(b) ? 1 : 0, r.Inner.Gets(r.Keys[b]));
    }

    [Fact]
    public async Task ZeroReadAheadBlocksDisablesIt()
    {
        var options = FsHarness.Fast();
        options.ReadAheadBlocks = 0;
        await using var r = await Rig.CreateAsync(options);
        for (int mi = 0; mi < Blocks * 4; mi++) await r.ReadAndCheckAsync((long)mi * Mi, Mi);

        Assert.Equal(0, r.Spy.TotalPrefetches);
        Assert.Null(r.Fs.ReadAhead);
        for (int b = 0; b < Blocks; b++) Assert.Equal(1, r.Inner.Gets(r.Keys[b]));
        Assert.Equal(Blocks, r.Cache.Counters.Misses - r.Misses0); // every block's first READ waited for it
    }

    [Fact]
    public async Task ManyConcurrentSequentialReadersFetchEachBlockOnce()
    {
        await using var r = await Rig.CreateAsync(FsHarness.Fast());
        var readers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (int mi = 0; mi < Blocks * 4; mi++) await r.ReadAndCheckAsync((long)mi * Mi, Mi);
        }));
        await Task.WhenAll(readers);

        for (int b = 0; b < Blocks; b++) Assert.Equal(1, r.Inner.Gets(r.Keys[b]));
        Assert.Equal(Blocks, r.Inner.TotalGets);
        Assert.True(r.Fs.PrefetchesIssued > 0);
        // 640 READs in overlapping streams, yet each block is asked for at most once (in flight or done lately).
        for (int b = 0; b < Blocks; b++) Assert.InRange(r.Spy.Prefetches(r.Keys[b]), 0, 1);
    }

    [Fact]
    public async Task PrefetchesBeyondTheConcurrencyCapAreDeferredNotQueued()
    {
        var options = FsHarness.Fast();
        options.ReadAheadConcurrency = 2;
        await using var r = await Rig.CreateAsync(options);
        r.Spy.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await r.ReadAndCheckAsync(0, Mi);
        await r.ReadAndCheckAsync(Mi, Mi);      // asks for blocks 0 and 1: both start, and are held
        await r.ReadAndCheckAsync(2 * Mi, Mi);  // asks for block 2 on: no slot
        await r.ReadAndCheckAsync(3 * Mi, Mi);
        Assert.Equal(2, r.Spy.TotalPrefetches);
        Assert.Equal(2, r.Fs.ReadAhead!.Active);
        Assert.True(r.Fs.PrefetchesDeferred >= 2);
        Assert.Equal(0, r.Spy.Prefetches(r.Keys[2]));

        r.Spy.Gate.SetResult();
        await Until(() => r.Fs.ReadAhead.Active == 0, "held prefetches to finish");
        await r.ReadAndCheckAsync(4 * Mi, Mi);  // the deferred range is asked for again
        Assert.Equal(1, r.Spy.Prefetches(r.Keys[2]));
        await r.WaitCachedAsync(2);
        Assert.Equal(1, r.Inner.Gets(r.Keys[2]));
    }

    [Fact]
    public async Task OneReadSpanningSeveralBlocksFetchesThemInParallel()
    {
        var options = FsHarness.Fast();
        options.ReadAheadBlocks = 0;
        await using var r = await Rig.CreateAsync(options);
        r.Inner.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // [2, 14) MiB touches blocks 0-3: all four fetches must be in flight together (a serial reader would stop at one).
        var read = r.ReadAndCheckAsync(2 * Mi, 12 * Mi);
        await Until(() => r.Inner.TotalGets == 4, "four concurrent block fetches");
        Assert.False(read.IsCompleted);
        r.Inner.Gate.SetResult();
        await read;
        for (int b = 0; b < 4; b++) Assert.Equal(1, r.Inner.Gets(r.Keys[b]));
    }

    [Fact]
    public async Task AStoreWithoutPrefetchGetsNoReadAhead()
    {
        await using var h = new FsHarness(Backend.Memory);
        Assert.Null(((GatewayFileSystem)h.Fs).ReadAhead);
        ulong ino = h.NewFile("f");
        var data = FsHarness.Random(3 * Mi, 3);
        await h.WriteAsync(ino, 0, data);
        await h.CommitAsync(ino);
        for (int mi = 0; mi < 3; mi++) Assert.Equal(data.AsSpan(mi * Mi, Mi).ToArray(), await h.ReadAsync(ino, (long)mi * Mi, Mi));
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileSystemOptions { ReadAheadBlocks = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileSystemOptions { ReadAheadBlocks = 257 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileSystemOptions { ReadAheadConcurrency = 0 }.Validate());
        new FileSystemOptions { ReadAheadBlocks = 0 }.Validate();
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>A 40 MiB file written as one slice, then dropped from the cache so reads start cold.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-ra-").FullName;
        public readonly KeyCountingStore Inner = new(new MemoryObjectStore());
        public readonly CachingObjectStore Cache;
        public readonly PrefetchSpy<CachingObjectStore> Spy;
        public readonly MetadataStore Meta = new(new MemoryKvStore());
        public readonly GatewayFileSystem Fs;
        public readonly IFsVolume Vol;
        public readonly byte[] Data = FsHarness.Random(Blocks * Layout.BlockSize, 40);
        public string[] Keys = [];
        public ulong Ino;
        public long Hits0, Misses0;

        private Rig(FileSystemOptions options)
        {
            Cache = new CachingObjectStore(Inner, new BlockCacheOptions { Path = _dir, SizeBytes = 256L << 20, FreeSpaceRatio = () => 0.5 });
            Spy = new PrefetchSpy<CachingObjectStore>(Cache);
            Fs = new GatewayFileSystem(Meta, Spy, options);
            Vol = Fs.Volume(Meta.GetOrCreateVolumeId("ra"));
        }

        public static async Task<Rig> CreateAsync(FileSystemOptions options)
        {
            var r = new Rig(options);
            var created = r.Vol.Create(Credential.Root, INamespace.RootInode, "big", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
            Assert.Equal(FsStatus.Ok, created.Status);
            r.Ino = created.Obj!.Value.Inode;
            // One WRITE: one slice per chunk, ids increasing with the offset, so ordered by (slice id, block index)
            // the b-th object holds bytes [4b, 4b+4) MiB of the file.
            var w = await r.Vol.WriteAsync(Credential.Root, r.Ino, 0, r.Data, StableHow.FileSync);
            Assert.Equal(FsStatus.Ok, w.Status);

            var keys = new List<string>();
            await foreach (var (key, _) in r.Inner.ListAsync("chunks/")) keys.Add(key);
            Assert.Equal(Blocks, keys.Count);
            r.Keys = [.. keys.OrderBy(k => ulong.Parse(k.Split('/')[^1].Split('_')[0])).ThenBy(k => int.Parse(k.Split('_')[^2]))];
            foreach (var k in r.Keys) Assert.True(r.Cache.Evict(k)); // written through the cache: make it cold
            r.Inner.Reset();
            r.Hits0 = r.Cache.Counters.Hits;
            r.Misses0 = r.Cache.Counters.Misses;
            return r;
        }

        public async Task ReadAndCheckAsync(long offset, int count)
        {
            var buf = new byte[count];
            var res = await Vol.ReadAsync(Credential.Root, Ino, (ulong)offset, buf);
            Assert.Equal((FsStatus.Ok, count), (res.Status, res.Count));
            Assert.True(Data.AsSpan((int)offset, count).SequenceEqual(buf), $"data at {offset}");
        }

        public async Task WaitCachedAsync(int block)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!await Cache.IsCachedAsync(Keys[block]))
            {
                Assert.True(DateTime.UtcNow < deadline, $"block {block} was never prefetched");
                await Task.Delay(5);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Fs.DisposeAsync();
            Meta.Dispose();
            await FsHarness.DeleteCacheDirAsync(Cache, _dir);
        }
    }
}
