using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Stable writes to one file are a group commit: they wait for the file's next durable flush, and one flusher per file
/// runs those flushes back to back. What the group shares must not hide a failure from any of its writers, and a
/// writer that gives up must not take the group down with it.
/// </summary>
public class GroupFlushTests
{
    private const int Ki = 1024, Mi = 1 << 20;

    [Fact]
    public async Task AFailedFlushFailsEveryWriterOfItsGroupAndKeepsTheBytes()
    {
        await using var h = new FsHarness(Backend.Disk, FsHarness.Compacting(0));
        ulong ino = h.NewFile("f");
        var model = new byte[8 * Mi + 100 * Ki];
        var pieces = Enumerable.Range(0, 8).Select(i => (Off: i * (long)Mi, Data: FsHarness.Random(100 * Ki, i + 1))).ToArray();
        foreach (var p in pieces) p.Data.CopyTo(model, p.Off);
        h.FailPuts = true;
        var failed = await Task.WhenAll(pieces.Select(p => Task.Run(() =>
            h.Vol.WriteAsync(Credential.Root, ino, (ulong)p.Off, p.Data, StableHow.FileSync).AsTask())))
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(failed, r => Assert.Equal(FsStatus.Io, r.Status));
        foreach (var p in pieces) Assert.Equal(p.Data, await h.ReadAsync(ino, p.Off, p.Data.Length)); // still buffered

        // The next stable write's flush takes the bytes the failed ones put back.
        h.FailPuts = false;
        var last = FsHarness.Random(10, 99);
        var ok = await h.Vol.WriteAsync(Credential.Root, ino, 8 * Mi, last, StableHow.FileSync);
        Assert.Equal((FsStatus.Ok, StableHow.FileSync), (ok.Status, ok.Committed));
        last.CopyTo(model, 8 * Mi);
        await h.CrashAndRestartAsync();
        await h.CheckAsync(ino, model, modelMayBeLonger: true);
    }

    [Fact]
    public async Task AWriterThatGivesUpLeavesItsGroupToFinish()
    {
        await using var h = new FsHarness(Backend.Disk, FsHarness.Compacting(0));
        ulong ino = h.NewFile("f");
        var failPuts = h.Store.FailIf;
        using var gate = new ManualResetEventSlim(false);
        h.Store.FailIf = (op, key) => { if (op == ObjectOps.Put) gate.Wait(); return false; };
        try
        {
            var a = FsHarness.Random(100 * Ki, 1);
            var b = FsHarness.Random(100 * Ki, 2);
            var c = FsHarness.Random(100 * Ki, 3);
            long puts = h.Store.Calls(ObjectOps.Put);
            // A's flush holds the flusher at the gate; B and C wait for the next one.
            var first = Task.Run(() => h.Vol.WriteAsync(Credential.Root, ino, 0, a, StableHow.FileSync).AsTask());
            await FsHarness.PollAsync(() => h.Store.Calls(ObjectOps.Put) > puts);
            using var cts = new CancellationTokenSource();
            var gaveUp = Task.Run(() => h.Vol.WriteAsync(Credential.Root, ino, Mi, b, StableHow.FileSync, cts.Token).AsTask());
            var third = Task.Run(() => h.Vol.WriteAsync(Credential.Root, ino, 2 * Mi, c, StableHow.FileSync).AsTask());
            await Until(async () => (await h.ReadAsync(ino, Mi, b.Length)).SequenceEqual(b) && (await h.ReadAsync(ino, 2 * Mi, c.Length)).SequenceEqual(c));
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);
            Assert.False(first.IsCompleted);

            gate.Set();
            Assert.Equal(FsStatus.Ok, (await first.WaitAsync(TimeSpan.FromSeconds(30))).Status);
            Assert.Equal(FsStatus.Ok, (await third.WaitAsync(TimeSpan.FromSeconds(30))).Status);
            Assert.Equal(2, h.Store.Calls(ObjectOps.Put) - puts); // A's flush, then B and C together
            // What the metrics show: three stable writes, two flushes (a third, empty one if C registered only after
            // the second had taken the waiters), and the time A's flush spent held at the gate.
            Assert.Equal(3, h.Fs.StableWrites);
            Assert.InRange(h.Fs.GroupFlushes, 2, 3);
            Assert.True(h.Fs.GroupFlushSeconds > 0);

            // B's bytes were in C's flush: durable although its writer stopped waiting.
            h.Store.FailIf = failPuts;
            await h.CrashAndRestartAsync();
            Assert.Equal(a, await h.ReadAsync(ino, 0, a.Length));
            Assert.Equal(b, await h.ReadAsync(ino, Mi, b.Length));
            Assert.Equal(c, await h.ReadAsync(ino, 2 * Mi, c.Length));
        }
        finally
        {
            gate.Set();
            h.Store.FailIf = failPuts;
        }
    }

    /// <summary><see cref="FsHarness.PollAsync"/> for a condition that must read through the file system.</summary>
    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the writes to get there");
            await Task.Delay(5);
        }
    }
}
