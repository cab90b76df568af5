using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Compaction uploads in a lane of their own: they never take a client's upload slot, and none starts while a client
/// upload is queued. (On S3, compaction sharing the client slots made 4 KiB overwrites wait tens of seconds.)
/// </summary>
public class UploadLanesTests
{
    private const int Ki = 1 << 10;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Full_background_lane_does_not_hold_up_a_client()
    {
        var lanes = new UploadLanes(clientSlots: 1, backgroundSlots: 1);
        await lanes.EnterAsync(UploadLane.Background, CancellationToken.None);
        var client = lanes.EnterAsync(UploadLane.Client, CancellationToken.None);
        Assert.True(client.IsCompletedSuccessfully);
        Assert.Equal((0, 0), (lanes.ClientFree, lanes.BackgroundFree));
        lanes.Exit(UploadLane.Client);
        lanes.Exit(UploadLane.Background);
        Assert.Equal((1, 1), (lanes.ClientFree, lanes.BackgroundFree));
    }

    [Fact]
    public async Task Background_waits_while_a_client_is_queued()
    {
        var lanes = new UploadLanes(clientSlots: 1, backgroundSlots: 2);
        await lanes.EnterAsync(UploadLane.Client, CancellationToken.None);
        var queued = lanes.EnterAsync(UploadLane.Client, CancellationToken.None).AsTask();
        Assert.False(queued.IsCompleted);
        Assert.Equal(1, lanes.ClientWaiting);

        var background = lanes.EnterAsync(UploadLane.Background, CancellationToken.None).AsTask();
        Assert.False(background.IsCompleted); // a free background slot, but a client is waiting

        lanes.Exit(UploadLane.Client); // the queued client gets the slot; nobody waits any more
        await queued.WaitAsync(Hang);
        await background.WaitAsync(Hang);
        Assert.Equal(0, lanes.ClientWaiting);
        Assert.Equal(1, lanes.BackgroundFree); // the waiting one held its slot, and keeps it
        lanes.Exit(UploadLane.Background);
        lanes.Exit(UploadLane.Client);
    }

    [Fact]
    public async Task A_cancelled_background_wait_gives_its_slot_back()
    {
        var lanes = new UploadLanes(clientSlots: 1, backgroundSlots: 1);
        await lanes.EnterAsync(UploadLane.Client, CancellationToken.None);
        var queued = lanes.EnterAsync(UploadLane.Client, CancellationToken.None).AsTask();
        using var cts = new CancellationTokenSource();
        var background = lanes.EnterAsync(UploadLane.Background, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => background.WaitAsync(Hang));
        Assert.Equal(1, lanes.BackgroundFree);
        lanes.Exit(UploadLane.Client);
        await queued.WaitAsync(Hang);
        lanes.Exit(UploadLane.Client);
    }

    [Fact]
    public async Task A_commit_completes_while_a_compaction_upload_is_stuck()
    {
        var options = FsHarness.Fast();
        options.CompactSliceCount = 1000; // no background compaction while fragmenting
        options.UploadConcurrency = 1;
        options.CompactUploadConcurrency = 1;
        await using var h = new FsHarness(Backend.Memory, options);
        ulong frag = h.NewFile("fragmented");
        var model = new byte[68 * Ki];
        var rng = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            long off = rng.Next(0, 64) * Ki;
            var piece = FsHarness.Random(4 * Ki, i);
            await h.WriteAsync(frag, off, piece);
            await h.CommitAsync(frag);
            piece.CopyTo(model, off);
        }
        await FsHarness.PollAsync(() => h.FsInternal.Compactor!.Idle);
        options.CompactSliceCount = 8;

        // The next put (the compaction's copy) blocks in the store until released.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int armed = 1;
        ((MemoryObjectStore)h.Store.Inner).BeforePut = _ =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 0) return Task.CompletedTask;
            entered.SetResult();
            return release.Task;
        };
        var meta = h.Meta.OpenVolume(h.VolumeId);
        var compaction = h.FsInternal.Compactor!.CompactAsync(meta, frag, 0, CancellationToken.None);
        await entered.Task.WaitAsync(Hang);

        // The only client slot is free: a client's COMMIT goes through while the compaction upload hangs.
        ulong other = h.NewFile("other");
        var data = FsHarness.Random(100 * Ki, 9);
        await h.WriteAsync(other, 0, data);
        var commit = h.Vol.CommitAsync(Credential.Root, other).AsTask();
        Assert.Same(commit, await Task.WhenAny(commit, Task.Delay(Hang)));
        Assert.Equal(FsStatus.Ok, commit.Result.Status);
        Assert.False(compaction.IsCompleted);

        release.SetResult();
        Assert.Equal(FsStatus.Ok, await compaction.WaitAsync(Hang));
        Assert.Equal(1, h.Fs.Compactions);
        int size = (int)h.Size(frag);
        Assert.Equal(model[..size], await h.ReadAsync(frag, 0, size));
        Assert.Equal(data, await h.ReadAsync(other, 0, data.Length));
    }
}
