using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Graceful stop in writeback mode (SIGTERM): the staged records are uploaded before the file system closes, cutting
/// short any retry backoff, for at most <see cref="FileSystemOptions.StagingDrainTimeout"/>; what is left stays in the
/// journal and is replayed at the next start.
/// </summary>
public class WritebackDrainTests
{
    private const int Ki = 1 << 10;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private static FileSystemOptions Writeback(TimeSpan drain)
    {
        var o = FsHarness.Fast();
        o.CommitMode = CommitMode.Writeback;
        o.StagingDrainTimeout = drain;
        // One attempt per upload and a long backoff after it: a record that failed once would sit out the whole test
        // unless the drain retries it at once.
        o.ObjectRetries = 1;
        o.RetryBaseDelay = TimeSpan.FromMinutes(10);
        o.StagingMaxRetryDelay = TimeSpan.FromHours(1);
        return o;
    }

    private static int StagedFiles(FsHarness h) => Directory.EnumerateFiles(h.Options.StagingPath!, "*.stg").Count();

    private static async Task<(ulong Ino, byte[] Data)[]> StageWhileTheStoreFailsAsync(FsHarness h)
    {
        h.SettleOnCommit = false;
        h.FailPuts = true;
        var files = new (ulong, byte[])[3];
        for (int i = 0; i < files.Length; i++)
        {
            ulong ino = h.NewFile($"f{i}");
            var data = FsHarness.Random(300 * Ki + i, i);
            await h.WriteAsync(ino, 0, data);
            Assert.Equal(FsStatus.Ok, (await h.Vol.CommitAsync(Credential.Root, ino)).Status);
            files[i] = (ino, data);
        }
        // Each file's first upload failed: every one is now in a long backoff.
        await FsHarness.PollAsync(() => h.FsInternal.Staging!.Failures >= files.Length);
        Assert.Equal(files.Length, StagedFiles(h));
        Assert.Equal(0, h.ObjectCount());
        return files;
    }

    [Fact]
    public async Task A_graceful_stop_uploads_every_staged_record()
    {
        await using var h = new FsHarness(Backend.Disk, Writeback(Hang));
        var files = await StageWhileTheStoreFailsAsync(h);
        ulong buffered = h.NewFile("buffered"); // never committed: flushed at the stop, through the journal or not
        var tail = FsHarness.Random(5000, 42);
        await h.WriteAsync(buffered, 0, tail);
        h.FailPuts = false;

        await h.Fs.DisposeAsync().AsTask().WaitAsync(Hang);
        Assert.Equal(0, StagedFiles(h));
        Assert.Equal(files.Length + 1, h.ObjectCount());

        await h.CrashAndRestartAsync(graceful: true);
        Assert.Equal(0, h.Fs.StagedRecords); // nothing to replay
        foreach (var (ino, data) in files) Assert.Equal(data, await h.ReadAsync(ino, 0, data.Length));
        Assert.Equal(tail, await h.ReadAsync(buffered, 0, tail.Length));
    }

    [Fact]
    public async Task A_stop_that_cannot_upload_gives_up_and_the_next_start_replays()
    {
        await using var h = new FsHarness(Backend.Disk, Writeback(TimeSpan.FromMilliseconds(300)));
        var files = await StageWhileTheStoreFailsAsync(h);

        await h.Fs.DisposeAsync().AsTask().WaitAsync(Hang); // the store is still down: bounded, not stuck
        Assert.Equal(files.Length, StagedFiles(h));
        Assert.Equal(0, h.ObjectCount());

        h.FailPuts = false;
        await h.CrashAndRestartAsync(graceful: true);
        await h.SettleAsync();
        Assert.Equal(0, StagedFiles(h));
        foreach (var (ino, data) in files) Assert.Equal(data, await h.ReadAsync(ino, 0, data.Length));
    }
}
