using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>The file-system contract, run over each backend.</summary>
public abstract class GatewayFileSystemTests(Backend backend)
{
    /// <summary>Operations of the random model test: fewer on disk, where stable writes and commits fsync.</summary>
    protected virtual int ModelOps => 2500;

    private const int Mi = 1 << 20;

    /// <summary>The options every test starts from (a subclass runs the whole contract in writeback mode).</summary>
    protected virtual FileSystemOptions Options() => FsHarness.Fast();

    [Fact]
    public async Task WriteThenReadSmall()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("a");
        await h.WriteAsync(ino, 0, "hello"u8.ToArray());
        var buf = new byte[100];
        var res = await h.Vol.ReadAsync(Credential.Root, ino, 0, buf);
        Assert.Equal((FsStatus.Ok, 5, true), (res.Status, res.Count, res.Eof));
        Assert.Equal("hello"u8.ToArray(), buf[..5]);
        await h.CommitAsync(ino);
        Assert.Equal(1, h.ObjectCount());
        Assert.Equal("hello"u8.ToArray(), await h.ReadAsync(ino, 0, 100));
        res = await h.Vol.ReadAsync(Credential.Root, ino, 1, new byte[2]);
        Assert.Equal((FsStatus.Ok, 2, false), (res.Status, res.Count, res.Eof));
        res = await h.Vol.ReadAsync(Credential.Root, ino, 5, new byte[2]);
        Assert.Equal((FsStatus.Ok, 0, true), (res.Status, res.Count, res.Eof));
    }

    [Fact]
    public async Task WritesAcrossBlockAndChunkBoundariesReadBackBeforeAndAfterCommitAndRestart()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("big");
        long c = Layout.ChunkSize; // one block: every block boundary is a chunk boundary
        long offset = 3 * c - 2 * Mi - 100; // spans two chunk boundaries
        var data = FsHarness.Random(6 * Mi + 100, 1);
        await h.WriteAsync(ino, offset, data);

        async Task CheckAsync()
        {
            Same(data, await h.ReadAsync(ino, offset, data.Length));
            foreach (long at in new long[] { 3 * c - 7, 3 * c + Mi - 1, 4 * c - 13 })
            {
                var got = await h.ReadAsync(ino, at, 10);
                Assert.Equal(data.AsSpan((int)(at - offset), 10).ToArray(), got);
            }
            Same(new byte[100], (await h.ReadAsync(ino, offset - 100, 100 + 10))[..100]);
        }

        await CheckAsync(); // from the buffer (or partly flushed in the background)
        await h.CommitAsync(ino);
        // Slices are cut at the chunk boundary; each is stored as blocks of at most 4 MiB.
        Assert.All(h.ObjectKeys(), k => Assert.True(int.Parse(k.Split('_')[^1]) <= Layout.BlockSize));
        await CheckAsync();
        await h.CrashAndRestartAsync();
        await CheckAsync();
    }

    [Fact]
    public async Task RandomOperationsMatchAByteModel()
    {
        // Background flushes run almost continuously, to interleave with the foreground operations.
        var options = Options();
        options.MaxDirtyAge = TimeSpan.FromMilliseconds(5);
        options.TickInterval = TimeSpan.FromMilliseconds(5);
        await using var h = new FsHarness(backend, options);
        h.SettleOnCommit = false; // writeback: reads and truncates must also work while data is only staged
        var rng = new Random(20261129);
        ulong ino = h.NewFile("model");
        var model = new SparseFile();
        // Offsets near real block and chunk boundaries, sparsely: Layout is fixed, so small sizes cannot be configured.
        long[] bases = [0, Layout.BlockSize, 2L * Layout.BlockSize, Layout.ChunkSize, Layout.ChunkSize + Layout.BlockSize];
        long Near() => Math.Max(0, bases[rng.Next(bases.Length)] + rng.Next(-128 << 10, 128 << 10));

        for (int op = 0; op < ModelOps; op++)
        {
            int kind = rng.Next(100);
            if (kind < 50)
            {
                long off = Near();
                var data = FsHarness.Random(rng.Next(1, 64 << 10), op);
                var stable = rng.Next(10) == 0 ? StableHow.FileSync : StableHow.Unstable;
                await h.WriteAsync(ino, off, data, stable);
                model.Write(off, data);
            }
            else if (kind < 80)
            {
                long off = rng.Next(8) == 0 ? rng.NextInt64((long)model.Size + 10) : Near();
                int count = rng.Next(1, 128 << 10);
                var buf = new byte[count];
                var res = await h.Vol.ReadAsync(Credential.Root, ino, (ulong)off, buf);
                Assert.Equal(FsStatus.Ok, res.Status);
                var expected = model.Read(off, count);
                Assert.Equal(expected.Length, res.Count);
                Assert.True(expected.AsSpan().SequenceEqual(buf.AsSpan(0, res.Count)), $"op {op}: read {off}+{count} differs");
                Assert.Equal(off + count >= (long)model.Size, res.Eof);
            }
            else if (kind < 90)
            {
                ulong size = (ulong)Near();
                Assert.Equal(FsStatus.Ok, h.Truncate(ino, size).Status);
                model.Truncate(size);
            }
            else if (kind < 97)
            {
                await h.CommitAsync(ino);
            }
            else if (kind < 99)
            {
                await h.Fs.FlushAllAsync();
            }
            else
            {
                await h.CommitAsync(ino);
                await h.CrashAndRestartAsync();
            }
            Assert.Equal(model.Size, h.Size(ino));
        }
        await h.CommitAsync(ino);
        await h.CrashAndRestartAsync();
        foreach (long b in bases)
        {
            long off = Math.Max(0, b - (200 << 10));
            Same(model.Read(off, 400 << 10), await h.ReadAsync(ino, off, 400 << 10));
        }
    }

    [Fact]
    public async Task CommittedDataSurvivesARestartUncommittedNeedNot()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        var committed = FsHarness.Random(300_000, 2);
        await h.WriteAsync(ino, 1000, committed);
        await h.CommitAsync(ino);
        await h.WriteAsync(ino, 5_000_000, FsHarness.Random(1000, 3));
        await h.CrashAndRestartAsync();
        Same(committed, await h.ReadAsync(ino, 1000, committed.Length));
        // A new incarnation has a new write verifier, so clients resend what they had not committed.
        await using var other = new GatewayFileSystem(h.Meta, h.Store, h.Options);
        Assert.NotEqual(h.Fs.WriteVerifier, other.WriteVerifier);
    }

    [Fact]
    public async Task StableWriteIsDurableWithoutCommit()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("s");
        var data = FsHarness.Random(5000, 4);
        var res = await h.Vol.WriteAsync(Credential.Root, ino, 10, data, StableHow.DataSync);
        Assert.Equal((FsStatus.Ok, StableHow.FileSync), (res.Status, res.Committed));
        Assert.NotNull(res.After);
        Assert.Equal(5010UL, res.After!.Value.Size);
        await h.CrashAndRestartAsync();
        Same(data, await h.ReadAsync(ino, 10, 5000));
    }

    [Fact]
    public async Task FailedUploadsKeepTheDataAndALaterCommitSucceeds()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        var data = FsHarness.Random(6 * Mi, 5);
        h.FailPuts = true;
        await h.WriteAsync(ino, 77, data);
        // Writeback acknowledges once the data is staged locally; strict needs the object store.
        var expected = h.Writeback ? FsStatus.Ok : FsStatus.Io;
        var commit = await h.Vol.CommitAsync(Credential.Root, ino);
        Assert.Equal(expected, commit.Status);
        Assert.NotNull(commit.Obj);
        var stable = await h.Vol.WriteAsync(Credential.Root, ino, 0, new byte[] { 9 }, StableHow.FileSync);
        Assert.Equal(expected, stable.Status);
        Same(data, await h.ReadAsync(ino, 77, data.Length)); // still served from the buffer

        h.FailPuts = false;
        await h.CommitAsync(ino);
        await h.CrashAndRestartAsync();
        Same(data, await h.ReadAsync(ino, 77, data.Length));
        Assert.Equal(new byte[] { 9 }, await h.ReadAsync(ino, 0, 1));
    }

    [Fact]
    public async Task FullBufferAnswersJukeboxWithoutGrowingTheFile()
    {
        var options = Options();
        options.MaxBufferBytes = Mi;
        options.MaxWriteWait = TimeSpan.FromMilliseconds(50);
        await using var h = new FsHarness(backend, options);
        ulong ino = h.NewFile("f");
        h.FailPuts = true; // nothing can drain the buffer
        await h.WriteAsync(ino, 0, FsHarness.Random(Mi, 6));
        var res = await h.Vol.WriteAsync(Credential.Root, ino, (ulong)Mi, new byte[1], StableHow.Unstable);
        Assert.Equal(FsStatus.Jukebox, res.Status);
        Assert.Equal((ulong)Mi, h.Size(ino));
        res = await h.Vol.WriteAsync(Credential.Root, ino, 0, new byte[2 * Mi], StableHow.Unstable);
        Assert.Equal(FsStatus.Jukebox, res.Status);

        h.FailPuts = false;
        await h.CommitAsync(ino);
        await h.WriteAsync(ino, Mi, new byte[] { 1 });
        Assert.Equal((ulong)Mi + 1, h.Size(ino));
    }

    [Fact]
    public async Task ConcurrentWritersBeyondTheCapWaitForFlushesAndLoseNothing()
    {
        var options = Options();
        options.MaxBufferBytes = 2 * Mi;
        options.BackgroundFlushBytes = Mi;
        options.MaxWriteWait = TimeSpan.FromMinutes(1); // the point is waiting, not the deadline
        await using var h = new FsHarness(backend, options);
        var files = Enumerable.Range(0, 4).Select(i => (Ino: h.NewFile("w" + i), Data: FsHarness.Random(3 * Mi + 1000 * i, 20 + i))).ToArray();
        await Task.WhenAll(files.Select(f => Task.Run(async () =>
        {
            const int piece = 256 << 10;
            for (int off = 0; off < f.Data.Length; off += piece)
                await h.WriteAsync(f.Ino, off, f.Data[off..Math.Min(f.Data.Length, off + piece)]);
        })));
        foreach (var (ino, data) in files)
        {
            Same(data, await h.ReadAsync(ino, 0, data.Length));
            await h.CommitAsync(ino);
        }
        await h.CrashAndRestartAsync();
        foreach (var (ino, data) in files) Same(data, await h.ReadAsync(ino, 0, data.Length));
    }

    [Fact]
    public async Task RemovingAFileReleasesItsBufferSpace()
    {
        var options = Options();
        options.MaxBufferBytes = Mi;
        options.MaxWriteWait = TimeSpan.FromMilliseconds(50);
        await using var h = new FsHarness(backend, options);
        ulong a = h.NewFile("a"), b = h.NewFile("b");
        h.FailPuts = true;
        await h.WriteAsync(a, 0, new byte[Mi]);
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "a").Status);
        await h.WriteAsync(b, 0, new byte[Mi]);
    }

    [Fact]
    public async Task RemovedFilesObjectsAreDeleted()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        await h.WriteAsync(ino, 0, FsHarness.Random(9 * Mi, 7));
        await h.CommitAsync(ino);
        Assert.Equal(3, h.ObjectCount());
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        await FsHarness.PollAsync(() => h.ObjectCount() == 0);
        await FsHarness.PollAsync(() => h.Meta.PendingDeletes(10).Count == 0);
    }

    [Fact]
    public async Task RemovingAFileWithDataWakesTheDeleterAtOnce()
    {
        // With an idle interval of an hour, only the wake on REMOVE (the file had slices) can get the objects deleted.
        var options = Options();
        options.DeleteIdleInterval = TimeSpan.FromHours(1);
        await using var h = new FsHarness(backend, options);
        ulong ino = h.NewFile("f");
        await h.WriteAsync(ino, 0, FsHarness.Random(Mi, 8));
        await h.CommitAsync(ino);
        await FsHarness.PollAsync(() => h.ObjectCount() == 1);
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        await FsHarness.PollAsync(() => h.ObjectCount() == 0 && h.Meta.PendingDeletes(10).Count == 0);
    }

    [Fact]
    public async Task NamespaceChangesAreQuickOnBothLocalEngines()
    {
        await using var h = new FsHarness(backend, Options());
        Assert.True(h.Fs.QuickNamespaceChanges);
    }

    [Fact]
    public async Task FailedDeletesStayQueuedAndAreRetried()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        await h.WriteAsync(ino, 0, FsHarness.Random(Layout.BlockSize + 10, 11));
        await h.CommitAsync(ino);
        h.FailDeletes = true;
        long before = h.DeleteCalls;
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        await FsHarness.PollAsync(() => h.DeleteCalls - before >= 2 * h.Options.ObjectRetries); // at least two failed rounds
        Assert.Equal(2, h.ObjectCount());
        Assert.NotEmpty(h.Meta.PendingDeletes(10));
        h.FailDeletes = false;
        await FsHarness.PollAsync(() => h.ObjectCount() == 0 && h.Meta.PendingDeletes(10).Count == 0);
    }

    [Fact]
    public async Task TruncatedDataIsDeletedAndReadsAsZerosAfterExtending()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        var data = FsHarness.Random(3000, 8);
        await h.WriteAsync(ino, Layout.ChunkSize + 10, data);
        await h.WriteAsync(ino, 0, data); // buffered: the truncate must be ordered after it
        Assert.Equal(FsStatus.Ok, h.Truncate(ino, 1000).Status);
        Assert.Equal(FsStatus.Ok, h.Truncate(ino, (ulong)Layout.ChunkSize + 5000).Status);
        var expected = new byte[3000];
        data.AsSpan(0, 1000).CopyTo(expected);
        Same(expected, await h.ReadAsync(ino, 0, 3000));
        Same(new byte[3000], await h.ReadAsync(ino, Layout.ChunkSize + 10, 3000));
        await h.CommitAsync(ino);
        await h.CrashAndRestartAsync();
        Same(expected, await h.ReadAsync(ino, 0, 3000));
        Same(new byte[3000], await h.ReadAsync(ino, Layout.ChunkSize + 10, 3000));

        // Truncating to zero frees every slice; the deleter removes their objects.
        Assert.Equal(FsStatus.Ok, h.Truncate(ino, 0).Status);
        await FsHarness.PollAsync(() => h.ObjectCount() == 0);
    }

    [Fact]
    public async Task HolesReadAsZerosWithNoObjectsBehindThem()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("sparse");
        long at = 100L * Mi + 7;
        await h.WriteAsync(ino, at, new byte[] { 42 });
        await h.CommitAsync(ino);
        Assert.Equal(1, h.ObjectCount());
        Assert.Equal((ulong)at + 1, h.Size(ino));
        Same(new byte[Mi], await h.ReadAsync(ino, 0, Mi));
        Same(new byte[Mi], await h.ReadAsync(ino, Layout.ChunkSize - Mi / 2, Mi));
        var tail = await h.ReadAsync(ino, at - 10, 100);
        Assert.Equal(11, tail.Length);
        Assert.Equal(42, tail[10]);
        Assert.Equal(new byte[10], tail[..10]);
    }

    [Fact]
    public async Task ObjectStoreReadFailuresAreIoAfterRetries()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        await h.WriteAsync(ino, 0, FsHarness.Random(1000, 9));
        await h.CommitAsync(ino);
        h.FailGets = true;
        long before = h.GetCalls;
        var res = await h.Vol.ReadAsync(Credential.Root, ino, 0, new byte[1000]);
        Assert.Equal(FsStatus.Io, res.Status);
        Assert.Equal(h.Options.ObjectRetries, h.GetCalls - before);
        h.FailGets = false;
        Assert.Equal(1000, (await h.ReadAsync(ino, 0, 1000)).Length);
    }

    [Fact]
    public async Task GracefulShutdownFlushesBufferedWrites()
    {
        await using var h = new FsHarness(backend, Options());
        ulong ino = h.NewFile("f");
        var data = FsHarness.Random(10_000, 10);
        await h.WriteAsync(ino, 5, data);
        await h.CrashAndRestartAsync(graceful: true);
        Same(data, await h.ReadAsync(ino, 5, data.Length));
    }

    [Fact]
    public async Task NamespaceErrorsPassThrough()
    {
        await using var h = new FsHarness(backend, Options());
        var res = await h.Vol.ReadAsync(Credential.Root, INamespace.RootInode, 0, new byte[10]);
        Assert.Equal(FsStatus.IsDir, res.Status);
        var w = await h.Vol.WriteAsync(Credential.Root, 999_999, 0, new byte[10], StableHow.Unstable);
        Assert.NotEqual(FsStatus.Ok, w.Status);
        ulong ino = h.NewFile("ro");
        var user = new Credential(1000, 1000, []);
        w = await h.Vol.WriteAsync(user, ino, 0, new byte[10], StableHow.Unstable);
        Assert.Equal(FsStatus.Acces, w.Status);
        Assert.Equal(0UL, h.Size(ino));
    }

    /// <summary>Byte comparison that stays fast on megabytes and names the first difference.</summary>
    private static void Same(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int diff = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(diff == expected.Length, $"bytes differ at {diff}");
    }
}

public class GatewayFileSystemMemoryTests() : GatewayFileSystemTests(Backend.Memory);

public class GatewayFileSystemDiskTests() : GatewayFileSystemTests(Backend.Disk)
{
    protected override int ModelOps => 600;
}

/// <summary>The same contract with COMMIT answered from the local staging journal (uploads in the background).</summary>
public class GatewayFileSystemWritebackTests() : GatewayFileSystemTests(Backend.Disk)
{
    protected override int ModelOps => 600;

    protected override FileSystemOptions Options()
    {
        var o = FsHarness.Fast();
        o.CommitMode = CommitMode.Writeback;
        return o;
    }
}
