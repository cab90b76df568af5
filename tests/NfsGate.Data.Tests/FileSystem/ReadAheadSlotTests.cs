using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// How read-ahead uses its <see cref="FileSystemOptions.ReadAheadConcurrency"/> slots on a cold sequential read: a
/// slot freed while the reader waits is refilled from the deferred range at once (no READ arrives then), and a block
/// the cache already fetches for a READ takes no slot. Prefetches are held at gates, so "in flight" is exact; the
/// waits only poll for a state both the fixed and the broken code reach, and the asserts tell them apart.
/// </summary>
// IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls the latter on a test class, so the file system kept running
// and the cache directory (40-80 MiB) stayed in /tmp after every run.
public sealed class ReadAheadSlotTests : IAsyncLifetime
{
    private const int Mi = 1 << 20;
    private const int Blocks = 10; // a 40 MiB file: ten 4 MiB blocks (one slice, or one per chunk in 4 MiB chunks)
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-ra-slots-").FullName;
    private readonly KeyCountingStore _inner = new(new MemoryObjectStore());
    private readonly CachingObjectStore _cache;
    private readonly MetadataStore _meta = new(new MemoryKvStore());
    private readonly byte[] _data = FsHarness.Random(Blocks * Layout.BlockSize, 42);
    private GatewayFileSystem? _fs;

    public ReadAheadSlotTests()
    {
        _cache = new CachingObjectStore(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = 256L << 20, FreeSpaceRatio = () => 0.5 });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_fs is not null) await _fs.DisposeAsync();
        _meta.Dispose();
        await FsHarness.DeleteCacheDirAsync(_cache, _dir);
    }

    [Fact]
    public async Task A_freed_slot_takes_the_next_deferred_block_without_a_new_read()
    {
        var spy = new PrefetchSpy<CachingObjectStore>(_cache);
        var (vol, ino, keys) = await CreateFileAsync(spy, concurrency: 2);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        spy.Gate = first;

        await ReadAndCheckAsync(vol, ino, 0, Mi);
        await ReadAndCheckAsync(vol, ino, Mi, Mi);     // asks for blocks 0 and 1: both start, and are held
        await ReadAndCheckAsync(vol, ino, 2 * Mi, Mi); // block 2 on: no slot, deferred
        await ReadAndCheckAsync(vol, ino, 3 * Mi, Mi);
        var ra = _fs!.ReadAhead!;
        Assert.Equal(2, spy.TotalPrefetches);
        Assert.Equal(0, spy.Prefetches(keys[2]));
        Assert.Equal(1, ra.DeferredRanges);

        // No READ comes now (a reader's READs would all wait on block 0). Blocks 2 and 3 must still start as blocks
        // 0 and 1 finish, and be held at the second gate; without refilling, the slots just go idle (Active 0).
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        spy.Gate = second;
        first.SetResult();
        await Until(() => spy.Prefetches(keys[3]) == 1 || ra.Active == 0, "freed slots to be refilled or to go idle");
        Assert.Equal(1, spy.Prefetches(keys[2]));
        Assert.Equal(1, spy.Prefetches(keys[3]));
        Assert.Equal(2, ra.Active); // never more than the cap
        Assert.Equal(0, spy.Prefetches(keys[5]));

        second.SetResult(); // the rest of the deferred range (block 4) follows, and nothing is fetched twice
        await Until(() => spy.Prefetches(keys[4]) == 1 && ra.Active == 0, "the deferred range to drain");
        Assert.Equal(0, ra.DeferredRanges);
        await _cache.SettleAsync();
        for (int b = 0; b <= 4; b++) Assert.Equal(1, _inner.Gets(keys[b]));
        Assert.Equal(5, _inner.TotalGets);
        for (int mi = 4; mi < 20; mi++) await ReadAndCheckAsync(vol, ino, (long)mi * Mi, Mi);
        for (int b = 0; b <= 4; b++) Assert.Equal(1, _inner.Gets(keys[b]));
    }

    [Fact]
    public async Task A_block_the_cache_fetches_for_a_read_takes_no_slot()
    {
        var (vol, ino, keys) = await CreateFileAsync(_cache, concurrency: 1);
        _inner.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // READ 0 fetches block 0 itself; READ 1 asks read-ahead for blocks 0 and 1. Block 0 is on its way already
        // (in flight from the moment READ 0 missed), so the one slot goes to block 1. The cache starts each fetch on
        // the pool, so the GETs reach the store shortly after.
        var r0 = Read(vol, ino, 0, Mi);
        var r1 = Read(vol, ino, Mi, Mi);
        await Until(() => _inner.TotalGets >= 2, "both GETs to reach the store");
        Assert.Equal(1, _inner.Gets(keys[0]));
        Assert.Equal(1, _inner.Gets(keys[1]));
        Assert.Equal(1, _fs!.ReadAhead!.Active);
        Assert.Equal(2, _inner.TotalGets);

        _inner.Gate.SetResult();
        await CheckAsync(r0, 0, Mi);
        await CheckAsync(r1, Mi, Mi);
        await Until(() => _fs.ReadAhead.Active == 0, "the prefetch to finish");
        await _cache.SettleAsync();
        Assert.Equal(1, _inner.Gets(keys[0]));
        Assert.Equal(1, _inner.Gets(keys[1]));
    }

    [Fact]
    public async Task Deferred_ranges_are_bounded_and_one_per_overlapping_region()
    {
        var spy = new PrefetchSpy<CachingObjectStore>(_cache);
        var (vol, ino, _) = await CreateFileAsync(spy, concurrency: 1);
        var ra = _fs!.ReadAhead!;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        spy.Gate = gate;
        var meta = ((FsVolume)vol).Meta;

        Assert.Equal(4L * Mi, ra.Issue(meta, ino, 0, 12 * Mi)); // block 0 takes the slot
        Assert.Equal(1, ra.DeferredRanges);
        Assert.Equal(4L * Mi, ra.Issue(meta, ino, 2 * Mi, 16 * Mi)); // the same stream again: replaces, not adds
        Assert.Equal(1, ra.DeferredRanges);
        Assert.Equal(32L * Mi, ra.Issue(meta, ino, 32 * Mi, 36 * Mi)); // another region of the file
        Assert.Equal(2, ra.DeferredRanges);

        // Many other files' streams: only the newest MaxDeferred ranges are kept.
        for (int i = 0; i < ReadAhead.MaxDeferred + 10; i++)
        {
            var created = vol.Create(Credential.Root, INamespace.RootInode, $"small{i}", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
            ulong small = created.Obj!.Value.Inode;
            Assert.Equal(FsStatus.Ok, (await vol.WriteAsync(Credential.Root, small, 0, new byte[4096], StableHow.FileSync)).Status);
            Assert.Equal(0, ra.Issue(meta, small, 0, 4096));
        }
        Assert.Equal(ReadAhead.MaxDeferred, ra.DeferredRanges);
        Assert.Equal(1, ra.Active);
        gate.SetResult();
        await Until(() => ra.Active == 0 && ra.DeferredRanges == 0, "the deferred ranges to drain");
    }

    private async Task<(IFsVolume Vol, ulong Ino, string[] Keys)> CreateFileAsync(IObjectStore store, int concurrency)
    {
        var options = FsHarness.Fast();
        options.ReadAheadConcurrency = concurrency;
        _fs = new GatewayFileSystem(_meta, store, options);
        var vol = _fs.Volume(_meta.GetOrCreateVolumeId("ra"));
        var created = vol.Create(Credential.Root, INamespace.RootInode, "big", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
        Assert.Equal(FsStatus.Ok, created.Status);
        ulong ino = created.Obj!.Value.Inode;
        Assert.Equal(FsStatus.Ok, (await vol.WriteAsync(Credential.Root, ino, 0, _data, StableHow.FileSync)).Status);
        var keys = new List<string>();
        await foreach (var (key, _) in _inner.ListAsync("chunks/")) keys.Add(key);
        Assert.Equal(Blocks, keys.Count);
        // File order: by slice id (a sequential write's slices, one per chunk, take increasing ids), then block index.
        string[] ordered = [.. keys.OrderBy(k => ulong.Parse(k.Split('/')[^1].Split('_')[0])).ThenBy(k => int.Parse(k.Split('_')[^2]))];
        foreach (var k in ordered) Assert.True(_cache.Evict(k)); // written through the cache: make it cold
        _inner.Reset();
        return (vol, ino, ordered);
    }

    private static (Task<ReadResult> Task, byte[] Buffer) Read(IFsVolume vol, ulong ino, long offset, int count)
    {
        var buf = new byte[count];
        return (vol.ReadAsync(Credential.Root, ino, (ulong)offset, buf).AsTask(), buf);
    }

    private async Task ReadAndCheckAsync(IFsVolume vol, ulong ino, long offset, int count)
    {
        var buf = new byte[count];
        var res = await vol.ReadAsync(Credential.Root, ino, (ulong)offset, buf);
        Assert.Equal((FsStatus.Ok, count), (res.Status, res.Count));
        Assert.True(_data.AsSpan((int)offset, count).SequenceEqual(buf), $"data at {offset}");
    }

    private async Task CheckAsync((Task<ReadResult> Task, byte[] Buffer) read, long offset, int count)
    {
        var res = await read.Task;
        Assert.Equal((FsStatus.Ok, count), (res.Status, res.Count));
        Assert.True(_data.AsSpan((int)offset, count).SequenceEqual(read.Buffer), $"data at {offset}");
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
}
