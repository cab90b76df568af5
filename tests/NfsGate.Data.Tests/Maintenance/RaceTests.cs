using NfsGate.Data.Tests.FileSystem;
using NfsGate.FileSystem;
using NfsGate.FileSystem.Maintenance;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.Maintenance;

/// <summary>The orderings that keep gc and fsck from acting on a view a concurrent writer has already changed.</summary>
public class RaceTests
{
    [Fact]
    public async Task Upload_committed_after_the_listing_is_not_leaked()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong f = h.NewFile("f");
        // A writer allocated an id and uploaded: only its AddSlices is still to come.
        ulong id = h.Meta.NewSliceIds(1);
        string key = ObjectKeys.BlockKey(id, 0, 10);
        await h.Store.Inner.PutAsync(key, new byte[10]);
        var hooked = new HookedStore(h.Store.Inner)
        {
            AfterList = () => Assert.Equal(FsStatus.Ok, h.Meta.OpenVolume(h.VolumeId).AddSlices(f, [(0u, new Slice(id, 10, 0, 0, 10))], false)),
        };

        var gc = await GarbageCollector.RunAsync(h.Meta.Kv, hooked, new GcOptions { Delete = true });
        Assert.Empty(gc.Leaked);
        Assert.Equal(1, gc.ReferencedObjects);
        Assert.Contains(key, h.ObjectKeys());
    }

    [Fact]
    public async Task Block_of_a_file_removed_during_fsck_is_not_reported()
    {
        await using var h = new FsHarness(Backend.Memory);
        ulong f = h.NewFile("f");
        await h.WriteAsync(f, 0, FsHarness.Random(1000, 9));
        await h.CommitAsync(f);
        var hooked = new HookedStore(h.Store.Inner)
        {
            // The file goes away between the metadata snapshot and the HEAD of its block (the deleter got there first).
            MissOnHead = _ =>
            {
                Assert.Equal(FsStatus.Ok, h.Vol.Remove(Credential.Root, INamespace.RootInode, "f").Status);
                return true;
            },
        };
        var fsck = await DataChecker.CheckAsync(h.Meta.Kv, hooked);
        Assert.Empty(fsck.Problems);
        Assert.Equal((1L, 0L), (fsck.BlocksChecked, fsck.BlocksMissing));

        // Control: the same miss while the file still exists is reported.
        ulong g = h.NewFile("g");
        await h.WriteAsync(g, 0, FsHarness.Random(1000, 10));
        await h.CommitAsync(g);
        var control = await DataChecker.CheckAsync(h.Meta.Kv, new HookedStore(h.Store.Inner) { MissOnHead = _ => true });
        Assert.Equal(g, Assert.Single(control.Problems).Inode);
    }
}
