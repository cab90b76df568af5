using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Background compaction of fragmented chunks: fewer slices, the same bytes, holes kept as holes, old objects deleted
/// after the grace period, and a write racing the copy wins (the swap is a compare-and-swap).
/// </summary>
public class CompactionTests
{
    private const int Ki = 1 << 10;

    /// <summary>Writes 4 KiB pieces with a COMMIT after each: one slice per piece, into the file model too.</summary>
    private static async Task FragmentAsync(FsHarness h, ulong ino, byte[] model, long start, int pieces, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < pieces; i++)
        {
            long off = start + (long)rng.Next(0, 64) * Ki; // overlapping rewrites inside a 68 KiB window
            var data = FsHarness.Random(4 * Ki, seed * 1000 + i);
            await h.WriteAsync(ino, off, data);
            await h.CommitAsync(ino);
            data.CopyTo(model, off);
        }
    }

    [Fact]
    public async Task FragmentedChunkIsCompactedWithTheSameBytesAndOldObjectsGo()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(8));
        ulong ino = h.NewFile("f");
        var model = new byte[200 * Ki];
        await FragmentAsync(h, ino, model, 0, 40, 1);
        await FragmentAsync(h, ino, model, 128 * Ki, 40, 2); // a second run, with a hole between the two

        await FsHarness.PollAsync(() => h.Fs.Compactions > 0 && h.Slices(ino).Count <= 8,
            () => $"{h.Fs.Compactions} compactions, {h.Fs.CompactionConflicts} conflicts, {h.Slices(ino).Count} slices");
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
        // Old objects are deleted after the grace period; what stays is the compacted slices' blocks (+ newest pieces).
        await FsHarness.PollAsync(() => h.ObjectCount() <= 8 && h.Meta.PendingDeletes(1000).Count == 0);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
    }

    [Fact]
    public async Task HolesStayHoles()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(8));
        ulong ino = h.NewFile("sparse");
        var model = new byte[(4 << 20) + 68 * Ki];
        await FragmentAsync(h, ino, model, 0, 20, 3);
        await FragmentAsync(h, ino, model, 4 << 20, 20, 4); // 4 MiB hole between
        await FsHarness.PollAsync(() => h.Fs.Compactions > 0 && h.Slices(ino).Count <= 8,
            () => $"{h.Fs.Compactions} compactions, {h.Fs.CompactionConflicts} conflicts, {h.Slices(ino).Count} slices");
        await FsHarness.PollAsync(() => h.Meta.PendingDeletes(1000).Count == 0);
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
        // Two 68 KiB windows plus at most 8 not yet compacted 4 KiB pieces; an object behind the hole would be MiBs.
        long stored = 0;
        foreach (var key in h.ObjectKeys()) stored += long.Parse(key.Split('_')[^1]);
        Assert.True(stored <= 2 * 68 * Ki + 8 * 4 * Ki, $"{stored} bytes stored: the hole got objects");
    }

    [Fact]
    public async Task AWriteRacingTheCopyStaysOnTopOfIt()
    {
        var options = FsHarness.Compacting(1000); // no background compaction while fragmenting
        await using var h = new FsHarness(Backend.Memory, options);
        ulong ino = h.NewFile("f");
        var model = new byte[68 * Ki];
        await FragmentAsync(h, ino, model, 0, 20, 5);
        Assert.Equal(20, h.Slices(ino).Count);
        // The fragmenting flushes' notifications are handled (as no-ops) before compaction is switched on.
        await FsHarness.PollAsync(() => h.FsInternal.Compactor!.Idle);

        options.CompactSliceCount = 8;
        var racing = FsHarness.Random(10 * Ki, 99);
        int raced = 0;
        h.FsInternal.Compactor!.BeforeSwap = async () =>
        {
            // Once: between the copy of the old slices and the swap, a client writes and commits.
            if (Interlocked.Exchange(ref raced, 1) != 0) return;
            await h.WriteAsync(ino, 30 * Ki, racing);
            await h.CommitAsync(ino);
        };
        // Through the background loop, as in service: it compacts one chunk at a time, so the racing flush's own
        // notification waits behind this compaction (called directly, the two could race each other's swap).
        h.FsInternal.Compactor.Notify(h.Meta.OpenVolume(h.VolumeId), ino, [(0u, default(Slice))]);
        await FsHarness.PollAsync(() => Volatile.Read(ref raced) == 1 && h.FsInternal.Compactor.Idle);
        // The racing write was appended to the list the copy was made from: it stays on top of the copy and wins
        // (a failed swap would have counted a conflict and copied again).
        Assert.Equal(0, h.Fs.CompactionConflicts);
        Assert.True(h.Fs.Compactions > 0);
        racing.CopyTo(model, 30 * Ki);
        await h.CheckAsync(ino, model, modelMayBeLonger: true);

        Assert.True(h.Slices(ino).Count <= 8);
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
        // The thrown-away copy and the replaced slices lose their objects: only listed slices keep any.
        await FsHarness.PollAsync(() => h.Meta.PendingDeletes(1000).Count == 0);
        var live = h.LiveBlockKeys(ino);
        await FsHarness.PollAsync(() => h.ObjectKeys().All(live.Contains));
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
    }

    /// <summary>A committed 1000-byte file: one slice in chunk 0, for the ReplaceChunk tests to swap.</summary>
    private static async Task<(ulong Ino, IReadOnlyList<Slice> Slices)> OneSliceFileAsync(FsHarness h)
    {
        ulong ino = h.NewFile("f");
        await h.WriteAsync(ino, 0, FsHarness.Random(1000, 1));
        await h.CommitAsync(ino);
        return (ino, h.Slices(ino));
    }

    [Fact]
    public async Task ReplaceChunkIsACompareAndSwap()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(0));
        var (ino, slices) = await OneSliceFileAsync(h);
        h.FailDeletes = true; // keeps the queue as the swap left it
        var meta = (ISliceCompaction)h.Meta.OpenVolume(h.VolumeId);
        var stale = new List<Slice>(slices) { new(123_456, 10, 0, 0, 10) };
        Assert.Equal(FsStatus.NotSync, meta.ReplaceChunk(ino, 0, stale, [new Slice(777, 5, 0, 0, 5)], TimeSpan.Zero));
        Assert.Single(h.Slices(ino));
        Assert.Contains(h.Meta.PendingDeletes(10), d => d.Id == 777); // the unused replacement is queued at once
        Assert.Equal(FsStatus.Stale, meta.ReplaceChunk(ino + 1000, 0, slices, [], TimeSpan.Zero));
    }

    [Fact]
    public async Task ReplacedSlicesWaitForTheGracePeriodBeforeDeletion()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(0));
        var (ino, slices) = await OneSliceFileAsync(h);
        var meta = (ISliceCompaction)h.Meta.OpenVolume(h.VolumeId);
        ulong old = slices[0].Id;
        // Points at an object that does not exist; only the bookkeeping matters here.
        Assert.Equal(FsStatus.Ok, meta.ReplaceChunk(ino, 0, slices, [new Slice(old + 1000, 1000, 0, 0, 1000)], TimeSpan.FromHours(1)));
        Assert.Contains(h.Meta.PendingDeletes(10), d => d.Id == old); // queued...
        Assert.DoesNotContain(DueDeletes.Take(h.Meta, 10), d => d.Id == old); // ...but not due
        await Task.Delay(200); // several deleter rounds
        Assert.Equal(1, h.ObjectCount()); // still readable by reads that fetched the old list
    }

    [Fact]
    public async Task ScatteredWritesAreLeftAlone()
    {
        // 20 disjoint 4 KiB pieces: compaction would write 20 slices for 20, so it does not bother.
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(8));
        ulong ino = h.NewFile("f");
        for (int i = 0; i < 20; i++)
        {
            await h.WriteAsync(ino, i * 64L * Ki, FsHarness.Random(4 * Ki, i));
            await h.CommitAsync(ino);
        }
        var meta = h.Meta.OpenVolume(h.VolumeId);
        Assert.Equal(FsStatus.Ok, await h.FsInternal.Compactor!.CompactAsync(meta, ino, 0, CancellationToken.None));
        Assert.Equal(20, h.Slices(ino).Count);
        Assert.Equal(0, h.Fs.Compactions);
    }

    [Fact]
    public async Task SmallOverwritesOfALargeSliceAreNotCopiedWhole()
    {
        // One 4 MiB slice, then 20 scattered 4 KiB overwrites: merging would upload 4 MiB for 80 KiB of fragments
        // (51x), over the bound, so the chunk keeps its slices and no object is written.
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(8));
        ulong ino = h.NewFile("big");
        var model = FsHarness.Random(4 << 20, 99);
        await h.WriteAsync(ino, 0, model);
        await h.CommitAsync(ino);
        for (int i = 0; i < 20; i++)
        {
            var piece = FsHarness.Random(4 * Ki, 100 + i);
            long off = i * 200L * Ki;
            await h.WriteAsync(ino, off, piece);
            await h.CommitAsync(ino);
            piece.CopyTo(model, off);
        }
        int objects = h.ObjectCount();
        var meta = h.Meta.OpenVolume(h.VolumeId);
        Assert.Equal(FsStatus.Ok, await h.FsInternal.Compactor!.CompactAsync(meta, ino, 0, CancellationToken.None));
        Assert.Equal(21, h.Slices(ino).Count);
        Assert.Equal(objects, h.ObjectCount());
        await h.CheckAsync(ino, model);
    }

    [Fact]
    public async Task AChunkWrittenInBlockSizedSlicesIsNotRewritten()
    {
        // 12 slices of 1-4 MiB (a sequential write flushed piecewise) are not fragments: no copy, no new objects.
        // (In one 64 MiB chunk: new volumes' 4 MiB chunks would hold 4 each, under the threshold anyway.)
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(8), legacyChunks: true);
        ulong ino = h.NewFile("seq");
        var model = FsHarness.Random(12 << 20, 7);
        for (int i = 0; i < 12; i++)
        {
            await h.WriteAsync(ino, (long)i << 20, model.AsMemory(i << 20, 1 << 20).ToArray());
            await h.CommitAsync(ino);
        }
        Assert.Equal(12, h.Slices(ino).Count);
        int objects = h.ObjectCount();
        var meta = h.Meta.OpenVolume(h.VolumeId);
        Assert.Equal(FsStatus.Ok, await h.FsInternal.Compactor!.CompactAsync(meta, ino, 0, CancellationToken.None));
        Assert.Equal(12, h.Slices(ino).Count);
        Assert.Equal(objects, h.ObjectCount());
        Assert.Equal(0, h.Fs.Compactions);
        await h.CheckAsync(ino, model);
    }
}
