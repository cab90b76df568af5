using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.FileSystem.Maintenance;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Small flushes are committed inline: their bytes go into the metadata in the same transaction as the slices that
/// reference them, with no object PUT; compaction (right away when cheap, else the sweep) moves them into objects, and
/// the rows go with the delete queue. On RocksDB and the local store (the embedded defaults), restarted where it matters.
/// </summary>
public class InlineSliceTests
{
    private const int Ki = 1024, Mi = 1 << 20;

    private static FileSystemOptions Inline(TimeSpan sweepAge)
    {
        var o = FsHarness.Fast();
        o.InlineMaxBytes = 64 * Ki;
        o.InlineSweepAge = sweepAge;
        return o;
    }

    /// <summary>An 8 MiB file (two block objects) plus <paramref name="writes"/> scattered 4 KiB FILE_SYNC overwrites.</summary>
    private static async Task<(ulong Ino, byte[] Model)> BigFileWithScatteredWritesAsync(FsHarness h, int writes)
    {
        ulong ino = h.NewFile("f");
        var model = FsHarness.Random(8 * Mi, 1);
        await h.WriteAsync(ino, 0, model);
        await h.CommitAsync(ino);
        for (int i = 0; i < writes; i++)
        {
            var piece = FsHarness.Random(4 * Ki, 100 + i);
            long off = i * 997L * Ki % (8 * Mi - 4 * Ki);
            await h.WriteAsync(ino, off, piece, StableHow.FileSync);
            piece.CopyTo(model, off);
        }
        return (ino, model);
    }

    [Fact]
    public async Task Small_stable_writes_cost_no_object_and_survive_a_restart()
    {
        await using var h = new FsHarness(Backend.Disk, Inline(TimeSpan.FromHours(1)));
        ulong ino = h.NewFile("f");
        var model = FsHarness.Random(8 * Mi, 1);
        await h.WriteAsync(ino, 0, model);
        await h.CommitAsync(ino);
        long putsBefore = h.Store.Calls(ObjectOps.Put);
        for (int i = 0; i < 5; i++)
        {
            var piece = FsHarness.Random(4 * Ki, 100 + i);
            long off = 256L * Ki + i * 768L * Ki; // all in chunk 0
            await h.WriteAsync(ino, off, piece, StableHow.FileSync);
            piece.CopyTo(model, off);
        }
        Assert.Equal(putsBefore, h.Store.Calls(ObjectOps.Put));
        var inline = h.Slices(ino).Where(s => s.IsInline).ToList();
        Assert.Equal(5, inline.Count);
        // Each row names the chunk that references it, so a sweep finds it after a restart.
        var rows = h.Meta.InlineRows(100);
        Assert.Equal(5, rows.Count);
        Assert.All(rows, r => Assert.Equal((h.VolumeId, ino, 0u, 4 * Ki), (r.Volume, r.Inode, r.Chunk, r.Length)));

        await h.CheckAsync(ino, model);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model);
        // Compaction found five 4 KiB pieces in a 4 MiB window not worth a copy: the rows stay until the sweep.
        await FsHarness.PollAsync(() => h.FsInternal.Compactor!.Idle);
        Assert.Equal(5, h.Meta.InlineRows(100).Count);
        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, h.Store);
        Assert.True(fsck.Clean, string.Join("; ", fsck.Problems.Select(p => p.Message)));
    }

    [Fact]
    public async Task A_small_file_reaches_an_object_at_once_and_its_row_goes()
    {
        await using var h = new FsHarness(Backend.Disk, Inline(TimeSpan.FromHours(1)));
        ulong ino = h.NewFile("small");
        var data = FsHarness.Random(10_000, 7);
        await h.WriteAsync(ino, 0, data, StableHow.FileSync);
        // Compaction copies a window whose only slice is inline (copy = the inline bytes), then the row is deleted
        // once the grace period has passed.
        await FsHarness.PollAsync(() => h.Slices(ino).All(s => !s.IsInline) && h.Meta.InlineRows(10).Count == 0,
            () => $"slices {string.Join(",", h.Slices(ino))}, rows {h.Meta.InlineRows(10).Count}");
        Assert.Single(h.ObjectKeys());
        Assert.Equal(data, await h.ReadAsync(ino, 0, data.Length));
    }

    [Fact]
    public async Task The_sweep_moves_bytes_compaction_left_inline()
    {
        await using var h = new FsHarness(Backend.Memory, Inline(TimeSpan.FromMilliseconds(50)));
        var (ino, model) = await BigFileWithScatteredWritesAsync(h, 12);
        await FsHarness.PollAsync(() => h.Meta.InlineRows(100).Count == 0 && h.Slices(ino).All(s => !s.IsInline),
            () => $"{h.Meta.InlineRows(100).Count} rows, {h.Slices(ino).Count(s => s.IsInline)} inline references");
        await h.CheckAsync(ino, model);
        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, h.Store);
        Assert.True(fsck.Clean, string.Join("; ", fsck.Problems.Select(p => p.Message)));
    }

    [Fact]
    public async Task Rows_an_earlier_run_left_are_swept_after_a_restart()
    {
        // The first run never sweeps (an hour); the second finds the rows from the metadata alone.
        await using var h = new FsHarness(Backend.Disk, Inline(TimeSpan.FromHours(1)));
        var (ino, model) = await BigFileWithScatteredWritesAsync(h, 6);
        Assert.Equal(6, h.Meta.InlineRows(100).Count);
        h.Options.InlineSweepAge = TimeSpan.FromMilliseconds(50);
        await h.CrashAndRestartAsync();
        await FsHarness.PollAsync(() => h.Meta.InlineRows(100).Count == 0 && h.Slices(ino).All(s => !s.IsInline));
        Assert.True(h.Fs.InlineSweeps > 0);
        await h.CheckAsync(ino, model);
    }

    [Fact]
    public async Task Removing_the_file_deletes_its_rows()
    {
        await using var h = new FsHarness(Backend.Memory, Inline(TimeSpan.FromHours(1)));
        await BigFileWithScatteredWritesAsync(h, 4);
        Assert.NotEmpty(h.Meta.InlineRows(10));
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        await FsHarness.PollAsync(() => h.Meta.InlineRows(10).Count == 0 && h.ObjectCount() == 0);
    }

    [Fact]
    public async Task A_row_gone_from_under_a_reference_is_an_Io_and_an_fsck_problem()
    {
        await using var h = new FsHarness(Backend.Memory, Inline(TimeSpan.FromHours(1)));
        var (ino, _) = await BigFileWithScatteredWritesAsync(h, 1);
        var id = h.Slices(ino).Single(s => s.IsInline).Id;
        h.Meta.Kv.Transact(t => { t.Delete(Keys.InlineData(id)); return 0; }, durable: true);

        var buf = new byte[Mi];
        var res = await h.Vol.ReadAsync(Credential.Root, ino, 0, buf);
        Assert.Equal(FsStatus.Io, res.Status);
        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, h.Store);
        Assert.Equal(1, fsck.BlocksMissing);
        Assert.Contains(fsck.Problems, p => p.Inode == ino && p.Message.Contains("inline row"));
    }

    [Fact]
    public async Task Gc_reports_then_deletes_a_row_nothing_references_and_leaves_live_and_queued_ones()
    {
        await using var h = new FsHarness(Backend.Memory, Inline(TimeSpan.FromHours(1)));
        var (ino, model) = await BigFileWithScatteredWritesAsync(h, 3);
        var live = h.Meta.InlineRows(10).Select(r => r.Id).ToHashSet();
        // A row with no reference (what only a bug would leave), and one whose slice is queued for deletion.
        ulong leaked = h.Meta.NewSliceIds(1) | Slice.InlineFlag, queued = h.Meta.NewSliceIds(1) | Slice.InlineFlag;
        h.Meta.Kv.Transact(t =>
        {
            t.Set(Keys.InlineData(leaked), Codec.EncodeInline(1, h.VolumeId, ino, 0, new byte[100]));
            t.Set(Keys.InlineData(queued), Codec.EncodeInline(1, h.VolumeId, ino, 0, new byte[100]));
            // Queued as a compaction queues what it replaced, due in an hour: the deleter leaves it alone meanwhile.
            ulong due = (ulong)DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
            t.Set(Keys.DeleteQueue(due, queued), Codec.EncodeU32(100));
            t.Set(Keys.DeleteIndex(queued), Codec.EncodeU64(due));
            return 0;
        }, durable: true);

        var dry = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner);
        Assert.Equal([leaked], dry.LeakedInlineRows);
        Assert.Equal(100, dry.LeakedInlineBytes);
        Assert.Equal(0, dry.InlineRowsDeleted);
        Assert.Equal(live.Count + 2, h.Meta.InlineRows(10).Count);

        var run = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Equal(1, run.InlineRowsDeleted);
        Assert.Equal(live.Append(queued).Order(), h.Meta.InlineRows(10).Select(r => r.Id).Order());
        await h.CheckAsync(ino, model);
    }

    [Theory]
    [InlineData(0, 16)]  // turned off
    [InlineData(64 * Ki, 0)] // no compaction: nothing would ever move the bytes out
    public async Task Off_when_disabled_or_without_compaction(int inlineMax, int compactSliceCount)
    {
        var o = Inline(TimeSpan.FromHours(1));
        o.InlineMaxBytes = inlineMax;
        o.CompactSliceCount = compactSliceCount;
        await using var h = new FsHarness(Backend.Memory, o);
        ulong ino = h.NewFile("f");
        long puts = h.Store.Calls(ObjectOps.Put);
        await h.WriteAsync(ino, 0, FsHarness.Random(4 * Ki, 1), StableHow.FileSync);
        Assert.Equal(puts + 1, h.Store.Calls(ObjectOps.Put));
        Assert.Empty(h.Meta.InlineRows(10));
    }

    [Fact]
    public async Task A_flush_inlines_at_most_a_MiB_and_uploads_the_rest()
    {
        var o = Inline(TimeSpan.FromHours(1));
        o.MaxDirtyAge = TimeSpan.FromHours(1); // one flush: the COMMIT's
        await using var h = new FsHarness(Backend.Memory, o);
        // Compaction would move the 40 KiB files' inline bytes out at once: held at the swap, the lists stay as flushed.
        var hold = new TaskCompletionSource();
        h.FsInternal.Compactor!.BeforeSwap = () => hold.Task;
        try
        {
            ulong ino = h.NewFile("f");
            long chunk = h.Meta.OpenVolume(h.VolumeId).ChunkSize;
            // 40 KiB in each of 40 chunks, one COMMIT: 1,600 KiB of packed groups, of which 1 MiB (25 groups) fits inline.
            for (int c = 0; c < 40; c++) await h.WriteAsync(ino, c * chunk, FsHarness.Random(40 * Ki, c));
            await h.CommitAsync(ino);
            var inline = Enumerable.Range(0, 40).Count(c => Assert.Single(h.Slices(ino, (uint)c)).IsInline);
            Assert.Equal(SliceUploader.MaxInlinePerFlush / (40 * Ki), inline);
            hold.SetResult();
            for (int c = 0; c < 40; c++) Assert.Equal(FsHarness.Random(40 * Ki, c), await h.ReadAsync(ino, c * chunk, 40 * Ki));
        }
        finally
        {
            hold.TrySetResult(); // a failed assertion must not leave compaction, and the harness's dispose, waiting
        }
    }

    [Fact]
    public void A_stale_inode_stores_no_row_and_its_slices_are_queued()
    {
        using var store = new MetadataStore(new NfsGate.Metadata.Kv.MemoryKvStore());
        var v = store.OpenVolume(store.GetOrCreateVolumeId("x"));
        ulong id = store.NewSliceIds(1) | Slice.InlineFlag;
        Assert.Equal(FsStatus.Stale, v.AddSlices(12345, [(0u, new Slice(id, 3, 0, 0, 3))], durable: false, [new InlineData(id, new byte[3])]));
        Assert.Empty(store.InlineRows(10));
        var dead = store.PendingDeletes(10);
        Assert.Equal(id, Assert.Single(dead).Id);
    }
}
