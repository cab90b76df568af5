using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// COMMIT in writeback mode: acknowledged once fsync'ed in the staging journal, uploaded in the background, read-visible
/// meanwhile, replayed after a crash, retried while the object store fails, and capped.
/// </summary>
public class WritebackTests
{
    private const int Mi = 1 << 20;

    private static FileSystemOptions Writeback(Action<FileSystemOptions>? tune = null)
    {
        var o = FsHarness.Fast();
        o.CommitMode = CommitMode.Writeback;
        tune?.Invoke(o);
        return o;
    }

    private static async Task CommitStagedAsync(FsHarness h, ulong ino)
    {
        var res = await h.Vol.CommitAsync(Credential.Root, ino);
        Assert.Equal(FsStatus.Ok, res.Status);
    }

    private static int StagedFiles(FsHarness h) =>
        Directory.EnumerateFiles(h.Options.StagingPath!, "*.stg").Count();

    [Fact]
    public async Task CommitAnswersWhileTheStoreIsDownAndReadsSeeTheStagedData()
    {
        await using var h = new FsHarness(Backend.Memory, Writeback());
        ulong ino = h.NewFile("f");
        var data = FsHarness.Random(5 * Mi + 123, 1);
        h.FailPuts = true;
        await h.WriteAsync(ino, 1000, data);
        await CommitStagedAsync(h, ino);

        Assert.Equal(0, h.ObjectCount());
        Assert.Equal(1, StagedFiles(h));
        Assert.True(h.Fs.StagedBytes >= data.Length);
        Same(data, await h.ReadAsync(ino, 1000, data.Length)); // from the journal: the buffer is empty now
        Same(data.AsSpan(Mi, 10).ToArray(), await h.ReadAsync(ino, 1000 + Mi, 10));
        Same(new byte[1000], await h.ReadAsync(ino, 0, 1000));

        // The store recovers: the record is retried, uploaded, committed, and removed from the journal.
        await FsHarness.PollAsync(() => h.FsInternal.Staging!.Failures > 0);
        h.FailPuts = false;
        await h.SettleAsync();
        Assert.Equal(0, StagedFiles(h));
        Assert.Equal(0, h.Fs.StagedBytes);
        Assert.Equal(2, h.ObjectCount()); // 5 MiB + 123 bytes = one 4 MiB block and one short one
        Same(data, await h.ReadAsync(ino, 1000, data.Length));
    }

    [Fact]
    public async Task CommittedDataIsReplayedAfterACrash()
    {
        var staging = Directory.CreateTempSubdirectory("nfsgate-stage-").FullName;
        try
        {
            await using var h = new FsHarness(Backend.Disk, Writeback(o => o.StagingPath = staging));
            ulong a = h.NewFile("a"), b = h.NewFile("b");
            var first = FsHarness.Random(3 * Mi, 2);
            var second = FsHarness.Random(70_000, 3);
            var stable = FsHarness.Random(5000, 4);
            h.FailPuts = true; // nothing reaches the object store before the crash
            await h.WriteAsync(a, 0, first);
            await CommitStagedAsync(h, a);
            await h.WriteAsync(a, 100, second); // overwrites part of the first record: order matters on replay
            await CommitStagedAsync(h, a);
            var w = await h.Vol.WriteAsync(Credential.Root, b, 7, stable, StableHow.FileSync);
            Assert.Equal((FsStatus.Ok, StableHow.FileSync), (w.Status, w.Committed));
            await h.WriteAsync(b, 1 << 30, [1]); // never committed: may be lost
            Assert.Equal(3, StagedFiles(h));
            // A torn record (the crash hit before its rename) was never acknowledged: it is ignored and removed.
            File.WriteAllBytes(Path.Combine(staging, "00000000000000000099.stg.tmp"), [1, 2, 3]);

            await h.CrashAndRestartAsync(); // RocksDB reopened on the same directories; puts still failing
            Assert.False(File.Exists(Path.Combine(staging, "00000000000000000099.stg.tmp")));
            var expected = (byte[])first.Clone();
            second.CopyTo(expected, 100);
            Same(expected, await h.ReadAsync(a, 0, expected.Length)); // served from the replayed journal
            Same(stable, await h.ReadAsync(b, 7, stable.Length));
            Assert.Equal(0, h.ObjectCount());

            h.FailPuts = false;
            await h.SettleAsync();
            Assert.Equal(0, StagedFiles(h));
            await h.CrashAndRestartAsync(); // now from the object store alone
            Same(expected, await h.ReadAsync(a, 0, expected.Length));
            Same(stable, await h.ReadAsync(b, 7, stable.Length));
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    [Fact]
    public async Task NewerWritesAreNotOvertakenByOlderStagedData()
    {
        await using var h = new FsHarness(Backend.Memory, Writeback());
        ulong ino = h.NewFile("f");
        h.FailPuts = true;
        await h.WriteAsync(ino, 0, Fill(100_000, 1));
        await CommitStagedAsync(h, ino);
        await h.WriteAsync(ino, 50_000, Fill(100_000, 2)); // unstable, newer
        await h.Fs.FlushAllAsync(); // a background flush: staged behind the older record, not uploaded before it
        Assert.Equal(2, StagedFiles(h));
        h.FailPuts = false;
        await h.SettleAsync();
        var expected = Fill(150_000, 1);
        Fill(100_000, 2).CopyTo(expected, 50_000);
        Same(expected, await h.ReadAsync(ino, 0, 150_000));
    }

    [Fact]
    public async Task TruncateWaitsForStagedDataAndAnswersJukeboxWhileTheStoreIsDown()
    {
        await using var h = new FsHarness(Backend.Memory, Writeback(o => o.MaxWriteWait = TimeSpan.FromMilliseconds(100)));
        ulong ino = h.NewFile("f");
        h.FailPuts = true;
        await h.WriteAsync(ino, 0, Fill(10_000, 3));
        await CommitStagedAsync(h, ino);
        // The staged bytes must land before the truncate's hole, so it cannot happen until they are uploaded.
        Assert.Equal(FsStatus.Jukebox, h.Truncate(ino, 100).Status);
        Assert.Equal(10_000UL, h.Size(ino));
        h.FailPuts = false;
        await FsHarness.PollAsync(() => h.Truncate(ino, 100).Status == FsStatus.Ok);
        Assert.Equal(FsStatus.Ok, h.Truncate(ino, 10_000).Status);
        var expected = new byte[10_000];
        Fill(100, 3).CopyTo(expected, 0);
        Same(expected, await h.ReadAsync(ino, 0, 10_000));
    }

    [Fact]
    public async Task StagingCapAnswersJukeboxUntilUploadsMakeRoom()
    {
        await using var h = new FsHarness(Backend.Memory, Writeback(o =>
        {
            o.MaxStagingBytes = Mi;
            o.MaxWriteWait = TimeSpan.FromMilliseconds(100);
        }));
        ulong a = h.NewFile("a"), b = h.NewFile("b");
        h.FailPuts = true;
        await h.WriteAsync(a, 0, FsHarness.Random(600_000, 5));
        await CommitStagedAsync(h, a);
        await h.WriteAsync(b, 0, FsHarness.Random(600_000, 6));
        var res = await h.Vol.CommitAsync(Credential.Root, b);
        Assert.Equal(FsStatus.Jukebox, res.Status);
        Assert.True(h.Fs.StagedBytes <= Mi);
        Same(FsHarness.Random(600_000, 6), await h.ReadAsync(b, 0, 600_000)); // kept in the buffer

        h.FailPuts = false;
        await h.SettleAsync();
        await CommitStagedAsync(h, b);
        await h.SettleAsync();
        Same(FsHarness.Random(600_000, 5), await h.ReadAsync(a, 0, 600_000));
        Same(FsHarness.Random(600_000, 6), await h.ReadAsync(b, 0, 600_000));
    }

    [Fact]
    public async Task RemovedFilesStagedDataIsDroppedNotUploaded()
    {
        await using var h = new FsHarness(Backend.Memory, Writeback());
        ulong ino = h.NewFile("f");
        h.FailPuts = true;
        await h.WriteAsync(ino, 0, FsHarness.Random(200_000, 7));
        await CommitStagedAsync(h, ino);
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
        h.FailPuts = false;
        await h.SettleAsync();
        Assert.Equal(0, StagedFiles(h));
        await FsHarness.PollAsync(() => h.ObjectCount() == 0);
    }

    [Fact]
    public async Task DamagedRecordIsSetAsideNotReplayed()
    {
        var staging = Directory.CreateTempSubdirectory("nfsgate-stage-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(staging, "00000000000000000005.stg"), new byte[40]);
            await using var h = new FsHarness(Backend.Memory, Writeback(o => o.StagingPath = staging));
            Assert.True(File.Exists(Path.Combine(staging, "00000000000000000005.stg.bad")));
            Assert.Equal(0, h.Fs.StagedRecords);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    [Fact]
    public void WritebackNeedsAStagingDirectory()
    {
        var o = FsHarness.Fast();
        o.CommitMode = CommitMode.Writeback;
        Assert.Throws<ArgumentException>(o.Validate);
    }

    private static byte[] Fill(int n, byte value)
    {
        var b = new byte[n];
        Array.Fill(b, value);
        return b;
    }

    private static void Same(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int diff = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(diff == expected.Length, $"bytes differ at {diff}");
    }
}
