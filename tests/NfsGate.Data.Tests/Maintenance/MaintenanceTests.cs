using NfsGate.Data.Tests.FileSystem;
using NfsGate.FileSystem;
using NfsGate.FileSystem.Maintenance;
using NfsGate.Metadata;
using NfsGate.Metadata.Maintenance;

namespace NfsGate.Data.Tests.Maintenance;

/// <summary>fsck and gc over a real file system: a healthy tree is clean, and each planted fault is found.</summary>
public class MaintenanceTests
{
    private static readonly Credential Root = Credential.Root;
    private static readonly SetAttrRequest Mode644 = new() { Mode = 0b110_100_100 };

    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Disk)]
    public async Task Healthy_tree_after_writes_renames_and_removes_is_clean_and_leaks_nothing(Backend backend)
    {
        await using var h = new FsHarness(backend);
        ulong dir = h.Vol.Mkdir(Root, INamespace.RootInode, "d", Mode644).Obj!.Value.Inode;
        ulong big = h.NewFile("big");
        await h.WriteAsync(big, 0, FsHarness.Random(Layout.BlockSize + 1000, 1)); // two blocks
        await h.CommitAsync(big);
        ulong a = h.NewFile("a");
        await h.WriteAsync(a, 0, FsHarness.Random(5000, 2));
        await h.CommitAsync(a);
        await h.WriteAsync(a, 100, FsHarness.Random(300, 3)); // overwrite: a second slice
        await h.CommitAsync(a);
        ulong gone = h.NewFile("gone");
        await h.WriteAsync(gone, 0, FsHarness.Random(7000, 4));
        await h.CommitAsync(gone);
        Assert.Equal(FsStatus.Ok, h.Vol.Rename(Root, INamespace.RootInode, "a", dir, "a2").Status);
        Assert.Equal(FsStatus.Ok, h.Vol.Link(Root, big, dir, "big-link").Status);
        Assert.Equal(FsStatus.Ok, h.Vol.Symlink(Root, dir, "s", "../big", Mode644).Status);
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Root, INamespace.RootInode, "gone").Status);
        Assert.Equal(FsStatus.Ok, h.Truncate(big, 10).Status);
        await h.Fs.FlushAllAsync();
        await DrainDeletesAsync(h);

        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, h.Store.Inner);
        Assert.Empty(fsck.Problems);
        Assert.Equal(1, fsck.Metadata.Volumes);
        Assert.Equal(2, fsck.Metadata.Files);        // big, a2
        Assert.Equal(2, fsck.Metadata.Directories);  // root, d
        Assert.Equal(1, fsck.Metadata.Symlinks);
        Assert.Equal(10UL + 5000, fsck.Metadata.FileBytes);
        Assert.Equal(h.ObjectCount(), fsck.BlocksChecked); // every object left is a referenced block, and each was checked
        // big's first block, and a's two; big's second block was its own slice in chunk 1, dropped by the truncate.
        Assert.True(fsck.BlocksChecked >= 3);

        var gc = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Empty(gc.Leaked);
        Assert.Empty(gc.Problems);
        Assert.Equal(h.ObjectCount(), gc.ReferencedObjects);
        Assert.Equal(gc.ObjectsListed, gc.ReferencedObjects);
        Assert.Equal(FsHarness.Random(5000, 2).AsSpan(0, 100).ToArray(), (await h.ReadAsync(Lookup(h, dir, "a2"), 0, 5000))[..100]);
    }

    [Fact]
    public async Task Missing_or_short_block_is_reported_with_its_inode_and_chunk()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong keep = h.NewFile("keep");
        await h.WriteAsync(keep, 0, FsHarness.Random(3000, 5));
        await h.CommitAsync(keep);
        var before = h.ObjectKeys();
        ulong victim = h.NewFile("victim");
        await h.WriteAsync(victim, 0, FsHarness.Random(Layout.BlockSize + 10, 6));
        await h.CommitAsync(victim);
        var victimKeys = h.ObjectKeys().Except(before).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, victimKeys.Count);
        await h.Store.Inner.DeleteAsync(victimKeys[0]);
        await h.Store.Inner.PutAsync(victimKeys[1], new byte[3]);

        var progress = new List<MaintenanceProgress>();
        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, h.Store.Inner, progress: progress.Add);
        Assert.Equal(2, fsck.Problems.Count);
        var missing = Assert.Single(fsck.Problems, p => p.Kind == ProblemKind.MissingBlock);
        Assert.Equal((h.VolumeId, victim, 0u, victimKeys[0]), (missing.Volume, missing.Inode, missing.Chunk!.Value, missing.ObjectKey));
        var shortBlock = Assert.Single(fsck.Problems, p => p.Kind == ProblemKind.WrongBlockLength);
        Assert.Equal((victim, victimKeys[1]), (shortBlock.Inode, shortBlock.ObjectKey));
        Assert.Equal((1L, 1L), (fsck.BlocksMissing, fsck.BlocksWrongLength));
        Assert.Contains(progress, p => p.Phase == "objects" && p.Done == p.Total && p.Total == 3);

        var metadataOnly = await DataChecker.CheckAsync(h.Meta.Kv, h.Store.Inner, new FsckOptions { CheckObjects = false });
        Assert.Empty(metadataOnly.Problems);
        Assert.Equal(0, metadataOnly.BlocksChecked);
    }

    [Fact]
    public async Task Unreferenced_old_object_is_found_dry_run_keeps_it_delete_removes_it_once()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong f = h.NewFile("f");
        var data = FsHarness.Random(4000, 7);
        await h.WriteAsync(f, 0, data);
        await h.CommitAsync(f);
        // A writer that allocated an id and uploaded, then crashed before AddSlices.
        ulong id = h.Meta.NewSliceIds(1);
        string leak = ObjectKeys.BlockKey(id, 0, 10);
        await h.Store.Inner.PutAsync(leak, new byte[10]);

        var dry = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner);
        Assert.True(dry.DryRun);
        Assert.Equal([new LeakedObject(leak, id, 0, 10)], dry.Leaked);
        Assert.Equal(10, dry.LeakedBytes);
        Assert.Equal(0, dry.Deleted);
        Assert.Equal(id, dry.SliceCounter);
        Assert.Contains(leak, h.ObjectKeys());

        var wet = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Equal([leak], wet.Leaked.Select(l => l.Key));
        Assert.Equal(1, wet.Deleted);
        Assert.DoesNotContain(leak, h.ObjectKeys());
        Assert.Equal(data, await h.ReadAsync(f, 0, data.Length)); // referenced data untouched

        var again = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Empty(again.Leaked);
        Assert.Equal(0, again.Deleted);
        Assert.Equal(1, again.ReferencedObjects);
    }

    [Fact]
    public async Task Objects_above_the_counter_or_the_given_bound_are_never_leaked()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong older = h.Meta.NewSliceIds(1);
        ulong recent = h.Meta.NewSliceIds(1);
        string olderKey = ObjectKeys.BlockKey(older, 0, 5), recentKey = ObjectKeys.BlockKey(recent, 0, 5);
        string future = ObjectKeys.BlockKey(recent + 100, 0, 5); // allocated after the scan started: an upload in flight
        foreach (var k in new[] { olderKey, recentKey, future }) await h.Store.Inner.PutAsync(k, new byte[5]);

        var gc = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true, MaxSliceId = older });
        Assert.Equal([olderKey], gc.Leaked.Select(l => l.Key));
        Assert.Equal(2, gc.NewerObjects);
        Assert.Equal(older, gc.SliceIdBound);
        Assert.Equal([future, recentKey], h.ObjectKeys().Order(StringComparer.Ordinal));

        var unbounded = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Equal([recentKey], unbounded.Leaked.Select(l => l.Key));
        Assert.Equal(1, unbounded.NewerObjects);
        Assert.Equal([future], h.ObjectKeys());
    }

    [Fact]
    public async Task Queued_slices_and_foreign_keys_are_left_alone()
    {
        await using var h = new FsHarness(Backend.Memory);
        h.FailDeletes = true; // the background deleter cannot drain the queue
        ulong f = h.NewFile("f");
        await h.WriteAsync(f, 0, FsHarness.Random(2000, 8));
        await h.CommitAsync(f);
        Assert.Equal(FsStatus.Ok, h.Vol.Remove(Root, INamespace.RootInode, "f").Status);
        Assert.NotEmpty(h.Meta.PendingDeletes(10));
        await h.Store.Inner.PutAsync("chunks/0/0/not-a-block", new byte[1]);
        await h.Store.Inner.PutAsync("chunks/9/9/1_0_10", new byte[1]); // wrong directory levels for id 1

        var gc = await GarbageCollector.RunAsync(h.Meta.Kv, h.Store.Inner, new GcOptions { Delete = true });
        Assert.Empty(gc.Leaked);
        Assert.Equal(1, gc.QueuedObjects);
        Assert.Equal(2, gc.Problems.Count);
        Assert.All(gc.Problems, p => Assert.Equal(ProblemKind.UnparsableObjectKey, p.Kind));
        Assert.Equal(3, h.ObjectCount());
    }

    [Theory]
    [InlineData("chunks/0/0/7_1_4096", true, 7UL, 1, 4096)]
    [InlineData("chunks/1/1234/1234567_0_4194304", true, 1234567UL, 0, 4194304)]
    [InlineData("chunks/0/0/07_1_4096", false, 0UL, 0, 0)]
    [InlineData("chunks/0/0/7_-1_4096", false, 0UL, 0, 0)]
    [InlineData("chunks/0/1/7_1_4096", false, 0UL, 0, 0)]
    [InlineData("chunks/0/0/7_1", false, 0UL, 0, 0)]
    [InlineData("other/0/0/7_1_4096", false, 0UL, 0, 0)]
    public void Block_keys_parse_only_in_the_exact_written_form(string key, bool ok, ulong id, int index, int length)
    {
        Assert.Equal(ok, BlockKeys.TryParse(key, out ulong i, out int b, out int l));
        if (ok) Assert.Equal((id, index, length), (i, b, l));
    }

    private static ulong Lookup(FsHarness h, ulong dir, string name) => h.Vol.Lookup(Root, dir, name).Obj!.Value.Inode;

    /// <summary>Empties the delete queue, so no background delete can race the gc listing.</summary>
    private static async Task DrainDeletesAsync(FsHarness h)
    {
        for (int i = 0; i < 1000 && h.Meta.PendingDeletes(1).Count > 0; i++) await h.Fs.Deleter.RunOnceAsync(CancellationToken.None);
        Assert.Empty(h.Meta.PendingDeletes(1));
    }
}
