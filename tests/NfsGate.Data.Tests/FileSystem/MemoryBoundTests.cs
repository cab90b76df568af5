using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>Runs alone: it reads the process-wide allocation counter, which parallel test classes would inflate.</summary>
[CollectionDefinition(nameof(MemoryBoundTests), DisableParallelization = true)]
public class MemoryBoundCollection;

[Collection(nameof(MemoryBoundTests))]
/// <summary>The write-buffer cap holds under many concurrent large writers, and reads from slices do not copy through temporary buffers.</summary>
public class MemoryBoundTests
{
    private const int Mi = 1 << 20;

    [Fact]
    public async Task ManyConcurrentLargeWritersStayUnderTheBufferCapAndComplete()
    {
        var options = FsHarness.Fast();
        options.MaxBufferBytes = 8 * Mi;
        options.BackgroundFlushBytes = 4 * Mi;
        options.MaxWriteWait = TimeSpan.FromMinutes(1); // the point is waiting for room, not the deadline
        await using var h = new FsHarness(Backend.Memory, options);
        const int writers = 8, fileSize = 6 * Mi, piece = 256 << 10;
        var files = Enumerable.Range(0, writers).Select(i => (Ino: h.NewFile("w" + i), Seed: 100 + i)).ToArray();

        await Task.WhenAll(files.Select(f => Task.Run(async () =>
        {
            var data = FsHarness.Random(fileSize, f.Seed);
            for (int off = 0; off < fileSize; off += piece)
                await h.WriteAsync(f.Ino, off, data[off..(off + piece)]);
            await h.CommitAsync(f.Ino);
        })));

        var budget = h.FsInternal.Budget;
        // 48 MiB went through an 8 MiB buffer: the cap was reached (so it was tested) and never passed.
        Assert.True(budget.Peak <= budget.Max, $"peak {budget.Peak} > cap {budget.Max}");
        Assert.True(budget.Peak > budget.Max / 2, $"peak {budget.Peak}: the writers never filled the buffer");
        Assert.Equal(0, budget.Used);
        foreach (var (ino, seed) in files)
        {
            var got = await h.ReadAsync(ino, 0, fileSize);
            Assert.True(FsHarness.Random(fileSize, seed).AsSpan().SequenceEqual(got), $"file {ino} differs");
        }
    }

    [Fact]
    public async Task ReadsFromSlicesGoStraightIntoTheCallersBuffer()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong ino = h.NewFile("f");
        // Four slices (separate commits), each one 4 MiB block: a read spanning them assembles 16 MiB from 4 GETs.
        for (int i = 0; i < 4; i++)
        {
            await h.WriteAsync(ino, (long)i * Layout.BlockSize, FsHarness.Random(Layout.BlockSize, i));
            await h.CommitAsync(ino);
        }
        var dest = new byte[4 * Layout.BlockSize];
        await h.Vol.ReadAsync(Credential.Root, ino, 0, dest); // warm up (JIT, pools)

        // The counter is process-wide, so anything else running adds to it; the read's own allocation does not
        // change from one try to the next, so the smallest of three tries is the read's.
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var res = await h.Vol.ReadAsync(Credential.Root, ino, 0, dest);
            allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
            Assert.Equal((FsStatus.Ok, dest.Length), (res.Status, res.Count));
        }
        for (int i = 0; i < 4; i++)
            Assert.True(FsHarness.Random(Layout.BlockSize, i).AsSpan().SequenceEqual(dest.AsSpan(i * Layout.BlockSize, Layout.BlockSize)));
        // Process-wide (background loops included), so generous; one block copied through a temporary array is 4 MiB.
        Assert.True(allocated < Mi, $"a 16 MiB read allocated {allocated} bytes");
    }
}
