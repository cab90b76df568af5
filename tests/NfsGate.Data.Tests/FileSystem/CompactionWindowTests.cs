using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Compaction rewrites only the fragmented block-sized windows of a chunk and keeps referencing the big slices
/// elsewhere: the bytes uploaded scale with the fragmented windows, not with the chunk, and the data reads back the
/// same before, during (racing write) and after. Windows exist only in chunks of several blocks: these run on a volume
/// with the legacy 64 MiB chunks (new volumes have one block per chunk).
/// </summary>
public class CompactionWindowTests
{
    private const int Ki = 1 << 10, Mi = 1 << 20, Block = Layout.BlockSize;

    /// <summary>One 64 MiB chunk written in 1 MiB NFS writes and committed once: big slices, no fragments.</summary>
    private static async Task<(ulong Ino, byte[] Model, HashSet<ulong> BaseIds)> BigFileAsync(FsHarness h)
    {
        ulong ino = h.NewFile("big");
        var model = FsHarness.Random(64 * Mi, 1);
        for (int i = 0; i < 64; i++) await h.WriteAsync(ino, (long)i * Mi, model.AsSpan(i * Mi, Mi).ToArray());
        await h.CommitAsync(ino);
        var ids = new HashSet<ulong>();
        foreach (var s in h.Slices(ino)) ids.Add(s.Id);
        return (ino, model, ids);
    }

    /// <summary>Counts the bytes of every block put from now on (the key ends in the block's length).</summary>
    private static Func<long> CountPuts(FsHarness h)
    {
        long bytes = 0;
        var inner = h.Store.FailIf;
        h.Store.FailIf = (op, key) =>
        {
            if (op == ObjectOps.Put) Interlocked.Add(ref bytes, long.Parse(key.Split('_')[^1]));
            return inner?.Invoke(op, key) ?? false;
        };
        return () => Interlocked.Read(ref bytes);
    }

    [Fact]
    public async Task OnlyFragmentedWindowsAreCopiedAndARacingWriteStaysOnTop()
    {
        var options = FsHarness.Compacting(1000); // no background compaction while fragmenting
        await using var h = new FsHarness(Backend.Memory, options, legacyChunks: true);
        var (ino, model, baseIds) = await BigFileAsync(h);
        // Ten 128 KiB overwrites in each of windows 2, 7 and 13: 1,280 KiB of fragments per 4 MiB window, enough for
        // a copy of at most MaxCopyPerFragmentByte (4) bytes per fragment byte.
        int[] windows = [2, 7, 13];
        int seed = 10;
        foreach (int w in windows)
            for (int k = 0; k < 10; k++)
            {
                long off = (long)w * Block + k * 384L * Ki;
                var piece = FsHarness.Random(128 * Ki, seed++);
                await h.WriteAsync(ino, off, piece);
                await h.CommitAsync(ino);
                piece.CopyTo(model, off);
            }
        int before = h.Slices(ino).Count;
        Assert.True(before >= 31, $"{before} slices");
        await FsHarness.PollAsync(() => h.FsInternal.Compactor!.Idle);
        await h.CheckAsync(ino, model);

        var puts = CountPuts(h);
        options.CompactSliceCount = 8;
        var racing = FsHarness.Random(4 * Ki, 99);
        const long racingAt = 10L * Block + 4096; // inside an intact window: a kept reference changes under the copy
        int raced = 0;
        h.FsInternal.Compactor!.BeforeSwap = async () =>
        {
            if (Interlocked.Exchange(ref raced, 1) != 0) return;
            await h.WriteAsync(ino, racingAt, racing);
            await h.CommitAsync(ino);
        };
        // Through the background loop, as in service: one chunk at a time, so the racing flush's own notification
        // waits behind this compaction (called directly, the two could race each other's swap).
        h.FsInternal.Compactor.Notify(h.Meta.OpenVolume(h.VolumeId), ino, [(0u, default(Slice))]);
        await FsHarness.PollAsync(() => Volatile.Read(ref raced) == 1 && h.FsInternal.Compactor.Idle);
        // The racing slice was appended after the list the copy was made from: the swap keeps it on top, so the
        // copy is not thrown away (before, every racing write cost the whole copy again, and counted a conflict).
        Assert.Equal(0, h.Fs.CompactionConflicts);
        Assert.True(h.Fs.Compactions > 0);
        racing.CopyTo(model, racingAt);
        await h.CheckAsync(ino, model);

        // The racing flush notified the chunk again; one 4 KiB fragment is not worth a copy. The three windows were
        // put once, plus the racing 4 KiB, not the 64 MiB chunk.
        Assert.Equal(windows.Length * (long)Block + racing.Length, puts());
        var after = h.Slices(ino);
        Assert.Equal(racingAt % Mi, after[^1].Pos % Mi); // the racing piece is last: it wins over what lies below
        // Each copied window splits at most one base slice reference in two.
        Assert.True(after.Count <= baseIds.Count + 2 * windows.Length + 1, $"{after.Count} slices from {baseIds.Count} base slices");
        long keptBytes = after.Where(s => baseIds.Contains(s.Id)).Sum(s => (long)s.Len);
        Assert.Equal(64L * Mi - windows.Length * (long)Block, keptBytes);
        await h.CheckAsync(ino, model);

        // Once the deletes are done, exactly the listed slices' blocks exist: kept big slices did not lose theirs.
        await FsHarness.PollAsync(() => h.Meta.PendingDeletes(1000).Count == 0);
        var live = h.LiveBlockKeys(ino);
        await FsHarness.PollAsync(() => h.ObjectKeys().ToHashSet().SetEquals(live));
        await h.CheckAsync(ino, model);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model);
    }

    [Fact]
    public async Task PastTheHardLimitTinyOverwritesCostTheirWindowsOnly()
    {
        // Over 250 scattered 4 KiB overwrites in two windows push the list past the hard limit: the compaction that must
        // happen copies those two windows (8 MiB), where a copy of the whole run would upload 64 MiB.
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(100_000), legacyChunks: true); // only the hard limit compacts here
        var (ino, model, baseIds) = await BigFileAsync(h);
        var puts = CountPuts(h);
        var rng = new Random(5);
        // Stops at the first list past the limit: a later write would race the compaction it triggers.
        int pieces = 0;
        for (int i = 0; h.Slices(ino).Count <= NfsGate.FileSystem.Compaction.SliceCompactor.HardSliceLimit; i++, pieces++)
        {
            long off = (i % 2 == 0 ? 3L : 9L) * Block + rng.Next(0, Block / (4 * Ki)) * 4L * Ki;
            var piece = FsHarness.Random(4 * Ki, 1000 + i);
            await h.WriteAsync(ino, off, piece);
            await h.CommitAsync(ino);
            piece.CopyTo(model, off);
        }
        await FsHarness.PollAsync(() => h.Fs.Compactions > 0 && h.FsInternal.Compactor!.Idle);
        Assert.Equal(2L * Block, puts() - pieces * 4L * Ki);
        var after = h.Slices(ino);
        Assert.True(after.Count <= baseIds.Count + 4, $"{after.Count} slices from {baseIds.Count} base slices");
        Assert.Equal(64L * Mi - 2L * Block, after.Where(s => baseIds.Contains(s.Id)).Sum(s => (long)s.Len));
        await h.CheckAsync(ino, model);
    }

    [Fact]
    public async Task InFourMiBChunksRandomOverwritesAreCopiedAtAQuarterOfTheChunk()
    {
        // New volumes: the chunk is one block. Scattered 4 KiB overwrites of a written chunk are merged once they are a
        // quarter of it (MaxCopyPerFragmentByte = 4), so the copy is at most 4 bytes per byte overwritten; 64 MiB chunks
        // forced copies at the hard limit, about 16 per byte under uniform random writes.
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(16));
        ulong ino = h.NewFile("f");
        var model = FsHarness.Random(Block, 1);
        await h.WriteAsync(ino, 0, model);
        await h.CommitAsync(ino);
        var puts = CountPuts(h);
        var rng = new Random(9);
        var pages = new HashSet<long>();
        long written = 0;
        const int quarter = Block / (4 * Ki) / 4; // 256 pages, 1 MiB
        // Distinct pages, one per commit, each looked at by compaction before the next, until it copies.
        while (h.Fs.Compactions == 0)
        {
            long off = rng.Next(0, Block / (4 * Ki)) * 4L * Ki;
            if (!pages.Add(off)) continue;
            Assert.True(pages.Count <= quarter * 9 / 8 + 8, $"no compaction after {pages.Count} pages");
            var piece = FsHarness.Random(4 * Ki, pages.Count + 10);
            await h.WriteAsync(ino, off, piece);
            await h.CommitAsync(ino);
            written += piece.Length;
            piece.CopyTo(model, off);
            await FsHarness.PollAsync(() => h.FsInternal.Compactor!.Idle);
        }
        // Not before a quarter (the copy would cost more than 4 bytes per byte); at most an eighth later (a chunk whose
        // plan was not worth it is planned again only after its list grew by an eighth).
        Assert.True(pages.Count >= quarter, $"copied after {pages.Count} pages");
        Assert.Equal(1, h.Fs.Compactions);
        long copied = puts() - written;
        Assert.Equal((long)Block, copied); // the chunk once
        Assert.True(copied <= NfsGate.FileSystem.Compaction.SliceCompactor.MaxCopyPerFragmentByte * written);
        Assert.True(h.FsInternal.Compactor!.Skipped > 0); // the deferred looks were skipped, not planned
        Assert.Single(h.Slices(ino));
        await h.CheckAsync(ino, model);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model);
    }
}

public class CompactionDeferralTests
{
    [Theory]
    [InlineData(100, 100, true)]   // no growth
    [InlineData(100, 111, true)]   // less than an eighth
    [InlineData(100, 112, false)]  // an eighth: plan again
    [InlineData(20, 27, true)]     // at least 8 more
    [InlineData(20, 28, false)]
    [InlineData(900, 20, false)]   // shorter than at the plan: rewritten meanwhile, plan afresh
    [InlineData(900, 899, false)]
    public void A_deferred_chunk_is_planned_again_after_growing_by_an_eighth_or_shrinking(int planned, int count, bool skipped) =>
        Assert.Equal(skipped, NfsGate.FileSystem.Compaction.SliceCompactor.StillDeferred(planned, count));
}
