using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// A flush packs a chunk's small dirty runs into one slice (one object per block of it), and concurrent FILE_SYNC
/// writes to one file share flushes: the random 4 KiB write workload costs a PUT and a durable commit per group of
/// writes, not per write.
/// </summary>
public class PackedFlushTests
{
    private const int Ki = 1024, Mi = 1 << 20;

    [Fact]
    public async Task ScatteredSmallRunsOfAChunkAreOneObject()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(0), legacyChunks: true);
        ulong ino = h.NewFile("f");
        var model = new byte[70 * Mi];
        long puts = h.Store.Calls(ObjectOps.Put);
        // 20 scattered 4 KiB runs in chunk 0, 5 in chunk 1, and one 5 MiB run (a slice of its own, two blocks).
        var rng = new Random(3);
        for (int i = 0; i < 25; i++)
        {
            long off = i < 20 ? i * 3L * Mi + rng.Next(0, 512) * 4L * Ki : 64L * Mi + (i - 20) * 64L * Ki;
            var piece = FsHarness.Random(4 * Ki, i + 1);
            await h.WriteAsync(ino, off, piece);
            piece.CopyTo(model, off);
        }
        var big = FsHarness.Random(5 * Mi, 99);
        await h.WriteAsync(ino, 65L * Mi, big);
        big.CopyTo(model, 65L * Mi);
        // (The full block queues a background flush; it takes the whole generation, small runs included.)
        await h.CommitAsync(ino);

        Assert.Equal(4, h.Store.Calls(ObjectOps.Put) - puts); // packed chunk 0, packed chunk 1, the run's 2 blocks
        var chunk0 = h.Slices(ino, 0);
        Assert.Equal(20, chunk0.Count);
        Assert.Single(chunk0.Select(s => s.Id).Distinct());
        Assert.All(chunk0, s => Assert.Equal(20u * 4 * Ki, s.Size));
        var chunk1 = h.Slices(ino, 1);
        Assert.Equal(6, chunk1.Count);
        Assert.Equal(2, chunk1.Select(s => s.Id).Distinct().Count());

        await h.CheckAsync(ino, model);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model);

        // One id shared by 20 references: removing the file deletes its objects once, and all of them.
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        await FsHarness.PollAsync(() => h.ObjectCount() == 0);
    }

    [Fact]
    public async Task APackedSliceLargerThanABlockSplitsPiecesAcrossBlocks()
    {
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(0), legacyChunks: true);
        ulong ino = h.NewFile("f");
        var model = new byte[29 * Mi + 400 * Ki];
        // 30 runs of 300 KiB, 1 MiB apart: 8.8 MiB packed, so blocks 0/1 and 1/2 boundaries fall inside runs.
        for (int i = 0; i < 30; i++)
        {
            var piece = FsHarness.Random(300 * Ki, i + 7);
            await h.WriteAsync(ino, i * (long)Mi + 100 * Ki, piece);
            piece.CopyTo(model, i * (long)Mi + 100 * Ki);
        }
        await h.CommitAsync(ino);
        Assert.Equal(3, h.ObjectCount());
        await h.CheckAsync(ino, model);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model);
    }

    [Fact]
    public async Task InFourMiBChunksSmallRunsArePackedPerChunk()
    {
        // The layout of new volumes: a chunk is one block, so a flush makes one packed object per chunk it touches.
        await using var h = new FsHarness(Backend.Memory, FsHarness.Compacting(0));
        Assert.Equal(4L * Mi, h.Meta.OpenVolume(h.VolumeId).ChunkSize);
        ulong ino = h.NewFile("f");
        var model = new byte[12 * Mi];
        long puts = h.Store.Calls(ObjectOps.Put);
        // 10 runs in chunk 0, 3 in chunk 2 (chunk 1 stays a hole).
        for (int i = 0; i < 13; i++)
        {
            long off = i < 10 ? i * 400L * Ki : 8L * Mi + (i - 10) * 100L * Ki;
            var piece = FsHarness.Random(4 * Ki, i + 1);
            await h.WriteAsync(ino, off, piece);
            piece.CopyTo(model, off);
        }
        await h.CommitAsync(ino);
        Assert.Equal(2, h.Store.Calls(ObjectOps.Put) - puts);
        Assert.Single(h.Slices(ino, 0).Select(s => s.Id).Distinct());
        Assert.Equal(10, h.Slices(ino, 0).Count);
        Assert.Empty(h.Slices(ino, 1));
        Assert.Equal(3, h.Slices(ino, 2).Count);
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
    }

    [Fact]
    public async Task ConcurrentStableWritesShareFlushes()
    {
        // Disk: the object store's puts complete asynchronously, so writes arriving during a flush queue behind it.
        await using var h = new FsHarness(Backend.Disk, FsHarness.Compacting(0));
        ulong ino = h.NewFile("f");
        var model = new byte[15 * Mi + 12 * Ki];
        var pieces = Enumerable.Range(0, 16).Select(i => (Off: i * (long)Mi + 8 * Ki, Data: FsHarness.Random(4 * Ki, i + 1))).ToArray();
        long puts = h.Store.Calls(ObjectOps.Put);
        var results = await Task.WhenAll(pieces.Select(p =>
            h.Vol.WriteAsync(Credential.Root, ino, (ulong)p.Off, p.Data, StableHow.FileSync).AsTask()));
        Assert.All(results, r => Assert.Equal(FsStatus.Ok, r.Status));
        Assert.All(results, r => Assert.Equal(StableHow.FileSync, r.Committed));
        foreach (var p in pieces) p.Data.CopyTo(model, p.Off);
        // The first write flushes alone; the others queue behind it and go as one packed slice (two puts; a little
        // more when the first flush ends before all sixteen were buffered). Each write alone, as before, was sixteen.
        Assert.InRange(h.Store.Calls(ObjectOps.Put) - puts, 1, 8);

        await h.CrashAndRestartAsync(); // nothing was committed: the FILE_SYNC replies alone promised durability
        await h.CheckAsync(ino, model);
    }
}
