namespace NfsGate.Metadata.Tests;

/// <summary>
/// Compaction may keep old slices (whole or a part) in the replacement list: their objects must not be queued for
/// deletion, while the slices that really went away are.
/// </summary>
public class ReplaceChunkTests
{
    private const uint Mi = 1 << 20;

    [Fact]
    public void A_kept_slice_is_not_queued_while_replaced_ones_are()
    {
        using var fs = new Fs(legacyChunks: true); // the 64 MiB chunks these lists were written for
        ulong f = fs.File("f");
        var big = new Slice(10, 64 * Mi, 0, 0, 64 * Mi);
        var small1 = new Slice(11, 4096, 5 * Mi, 0, 4096);
        var small2 = new Slice(12, 4096, 5 * Mi + 8192, 0, 4096);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, big), (0, small1), (0, small2)], durable: false));

        // Window [4, 8) MiB rewritten as slice 20; the big slice stays referenced on both sides, in two parts.
        Slice[] replacement =
        [
            new Slice(10, 64 * Mi, 0, 0, 4 * Mi),
            new Slice(20, 4 * Mi, 4 * Mi, 0, 4 * Mi),
            new Slice(10, 64 * Mi, 8 * Mi, 8 * Mi, 56 * Mi),
        ];
        Assert.Equal(FsStatus.Ok, ((ISliceCompaction)fs.V).ReplaceChunk(f, 0, [big, small1, small2], replacement, TimeSpan.Zero));
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 0, out var now));
        Assert.Equal(replacement, now);
        Assert.Equal([11ul, 12ul], fs.Store.PendingDeletes(10).Select(d => d.Id).Order());

        // The checker sees the split slice as one slice with one set of objects, and nothing wrong.
        var check = NfsGate.Metadata.Maintenance.MetadataChecker.CheckVolume(fs.Store.Kv, 1);
        Assert.Empty(check.Problems);
        Assert.Equal(2, check.Slices);
        Assert.Equal(68ul * Mi, check.SliceBytes);
    }

    [Fact]
    public void Slices_appended_while_the_copy_was_made_stay_on_top_of_the_replacement()
    {
        using var fs = new Fs(legacyChunks: true); // the 64 MiB chunks these lists were written for
        ulong f = fs.File("f");
        var big = new Slice(10, 64 * Mi, 0, 0, 64 * Mi);
        var small = new Slice(11, 4096, 5 * Mi, 0, 4096);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, big), (0, small)], durable: false));
        // A write into the very window being rewritten lands after the copy was read: it must still win.
        var racing = new Slice(13, 4096, 5 * Mi, 0, 4096);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, racing)], durable: false));

        Slice[] replacement =
        [
            new Slice(10, 64 * Mi, 0, 0, 4 * Mi),
            new Slice(20, 4 * Mi, 4 * Mi, 0, 4 * Mi),
            new Slice(10, 64 * Mi, 8 * Mi, 8 * Mi, 56 * Mi),
        ];
        Assert.Equal(FsStatus.Ok, ((ISliceCompaction)fs.V).ReplaceChunk(f, 0, [big, small], replacement, TimeSpan.Zero));
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 0, out var now));
        Assert.Equal([.. replacement, racing], now);
        Assert.Equal([11ul], fs.Store.PendingDeletes(10).Select(d => d.Id));
    }

    [Fact]
    public void A_failed_swap_queues_only_the_fresh_copies()
    {
        using var fs = new Fs(legacyChunks: true); // the 64 MiB chunks these lists were written for
        ulong f = fs.File("f");
        var big = new Slice(10, 64 * Mi, 0, 0, 64 * Mi);
        var small = new Slice(11, 4096, 5 * Mi, 0, 4096);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, big), (0, small)], durable: false));
        // The list the copy was made from is not where the chunk's list starts (another compaction or a truncation
        // rewrote it meanwhile): the swap fails and only the copy (20) is garbage.
        var gone = new Slice(12, 4096, 9 * Mi, 0, 4096);

        Slice[] replacement =
        [
            new Slice(10, 64 * Mi, 0, 0, 4 * Mi),
            new Slice(20, 4 * Mi, 4 * Mi, 0, 4 * Mi),
            new Slice(10, 64 * Mi, 8 * Mi, 8 * Mi, 56 * Mi),
        ];
        Assert.Equal(FsStatus.NotSync, ((ISliceCompaction)fs.V).ReplaceChunk(f, 0, [big, gone, small], replacement, TimeSpan.Zero));
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 0, out var now));
        Assert.Equal([big, small], now);
        Assert.Equal([20ul], fs.Store.PendingDeletes(10).Select(d => d.Id));
    }
}
