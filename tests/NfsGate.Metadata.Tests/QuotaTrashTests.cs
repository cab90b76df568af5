namespace NfsGate.Metadata.Tests;

/// <summary>Per-volume quotas and trash, on both engines' shared logic (in-memory engine; one RocksDB case).</summary>
public class QuotaTrashTests
{
    private static readonly Credential Root = Credential.Root;

    [Fact]
    public void Byte_quota_refuses_growth_past_the_limit_but_not_rewrites()
    {
        using var fs = new Fs();
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(1000, 0));
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 600).Status);
        Assert.Equal(FsStatus.DQuot, fs.V.BeginWrite(Root, f, 600, 401).Status);
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 600).Status); // overwrite inside the file: no growth
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 600, 400).Status); // exactly at the limit
        Assert.Equal(1000ul, fs.Get(f).Size);
        Assert.Equal(FsStatus.DQuot, fs.V.Create(Root, Fs.RootIno, "g", CreateMode.Unchecked, new SetAttrRequest { Size = 1 }, 0).Status);
        Assert.Equal(new VolumeUsage(1000, 2), fs.V.Usage());
    }

    [Fact]
    public void Inode_quota_counts_every_kind_and_frees_on_remove()
    {
        using var fs = new Fs();
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(0, 3)); // the root counts: 2 more
        fs.File("a");
        fs.Dir("d");
        Assert.Equal(FsStatus.DQuot, fs.Create("b").Status);
        Assert.Equal(FsStatus.DQuot, fs.Mkdir("e").Status);
        Assert.Equal(FsStatus.DQuot, fs.V.Symlink(Root, Fs.RootIno, "s", "a", default).Status);
        Assert.Equal(FsStatus.DQuot, fs.V.Mknod(Root, Fs.RootIno, "p", FileType.Fifo, default, 0, 0).Status);
        Assert.Equal(FsStatus.Ok, fs.V.Link(Root, fs.V.Lookup(Root, Fs.RootIno, "a").Obj!.Value.Inode, Fs.RootIno, "hard").Status); // a name is no inode
        Assert.Equal(FsStatus.Ok, fs.V.Rmdir(Root, Fs.RootIno, "d").Status);
        Assert.Equal(FsStatus.Ok, fs.Create("b").Status);
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Quota_is_per_volume_and_can_be_cleared_or_lowered()
    {
        using var fs = new Fs();
        var v2 = fs.Store.OpenVolume(2);
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(0, 1));
        Assert.Equal(FsStatus.DQuot, fs.Create("a").Status);
        Assert.Equal(FsStatus.Ok, v2.Create(Root, Fs.RootIno, "a", CreateMode.Guarded, default, 0).Status);
        Assert.Equal(new VolumeQuota(0, 1), VolumeMeta.GetQuota(fs.Store.Kv, 1));
        VolumeMeta.SetQuota(fs.Store.Kv, 1, VolumeQuota.None);
        Assert.Equal(VolumeQuota.None, VolumeMeta.GetQuota(fs.Store.Kv, 1));
        Assert.Equal(FsStatus.Ok, fs.Create("a").Status);
        // Lowered below the use: nothing is lost, growth is refused, shrinking works.
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(0, 1));
        Assert.Equal(FsStatus.DQuot, fs.Create("b").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "a").Status);
    }

    [Fact]
    public void Concurrent_writers_never_exceed_the_quota_together()
    {
        using var fs = new Fs(Engines.Rocks());
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(100_000, 0));
        var files = Enumerable.Range(0, 8).Select(i => fs.File("f" + i)).ToArray();
        int ok = 0;
        Parallel.For(0, 8, i =>
        {
            for (ulong off = 0; off < 50_000; off += 1000)
                if (fs.V.BeginWrite(Root, files[i], off, 1000).Status == FsStatus.Ok) Interlocked.Increment(ref ok);
        });
        Assert.Equal(100, ok);
        Assert.Equal(100_000ul, fs.V.Usage().UsedBytes);
    }

    [Fact]
    public void Remove_with_trash_keeps_the_file_and_restore_brings_it_back()
    {
        using var fs = new Fs();
        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromDays(7));
        ulong d = fs.Dir("d");
        ulong f = fs.File("f", d);
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 123).Status);
        var r = fs.V.Remove(Root, d, "f");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(0ul, r.FreedInode); // the data path must keep its buffers: the file lives on in the trash
        Assert.Equal(FsStatus.NoEnt, fs.V.Lookup(Root, d, "f").Status);
        Assert.DoesNotContain("f", fs.List(d));
        Assert.Equal(["d"], fs.List(Fs.RootIno).Where(n => n is not ("." or ".."))); // the trash directory is listed nowhere
        Assert.Empty(fs.Store.PendingDeletes(10));

        var entry = Assert.Single(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal((d, "f", f, FileType.Regular, 123ul), (entry.Dir, entry.Name, entry.Inode, entry.Type, entry.Size));
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));

        Assert.Equal(FsStatus.Ok, VolumeMeta.RestoreTrash(fs.Store.Kv, 1, entry.Id, out var dir, out var name));
        Assert.Equal((d, "f"), (dir, name));
        Assert.Equal(f, fs.V.Lookup(Root, d, "f").Obj!.Value.Inode);
        Assert.Equal(123ul, fs.Get(f).Size);
        Assert.Empty(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal(FsStatus.NoEnt, VolumeMeta.RestoreTrash(fs.Store.Kv, 1, entry.Id, out _, out _));
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Rename_over_a_file_with_trash_keeps_the_replaced_file()
    {
        using var fs = new Fs();
        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromDays(7));
        ulong d = fs.Dir("d");
        ulong old = fs.File("f", d);
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, old, 0, 77).Status);
        ulong tmp = fs.File("f.tmp", d);
        var r = fs.V.Rename(Root, d, "f.tmp", d, "f");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(0ul, r.FreedInode);
        Assert.Equal(tmp, fs.V.Lookup(Root, d, "f").Obj!.Value.Inode);
        var entry = Assert.Single(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal((d, "f", old, 77ul), (entry.Dir, entry.Name, entry.Inode, entry.Size));
        Assert.Empty(fs.Store.PendingDeletes(10));
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Restore_into_a_taken_name_or_a_gone_directory_lands_in_the_root()
    {
        using var fs = new Fs();
        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromHours(1));
        ulong d = fs.Dir("d");
        fs.File("f", d);
        fs.File("g");
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, d, "f").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "g").Status);
        fs.File("g"); // the old name is taken again
        Assert.Equal(FsStatus.Ok, fs.V.Rmdir(Root, Fs.RootIno, "d").Status);
        var list = VolumeMeta.ListTrash(fs.Store.Kv, 1);
        Assert.Equal(2, list.Count);
        Assert.Equal(FsStatus.Ok, VolumeMeta.RestoreTrash(fs.Store.Kv, 1, list[0].Id, out var dir1, out var name1));
        Assert.Equal((Fs.RootIno, "f"), (dir1, name1));
        Assert.Equal(FsStatus.Ok, VolumeMeta.RestoreTrash(fs.Store.Kv, 1, list[1].Id, out var dir2, out var name2));
        Assert.Equal((Fs.RootIno, $"g.restored-{list[1].Id}"), (dir2, name2));
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Purge_frees_only_expired_entries_and_queues_their_data()
    {
        using var fs = new Fs();
        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromHours(1));
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 10).Status);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0u, new Slice(77, 10, 0, 0, 10))], durable: false));
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "f").Status);
        var usageInTrash = fs.V.Usage();
        Assert.Equal(new VolumeUsage(10, 3), usageInTrash); // root, trash directory, the file: trash still holds storage

        Assert.Equal(0, VolumeMeta.PurgeTrash(fs.Store.Kv, 1, DateTimeOffset.UtcNow.AddMinutes(59)));
        Assert.Single(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal(1, VolumeMeta.PurgeTrash(fs.Store.Kv, 1, DateTimeOffset.UtcNow.AddMinutes(61)));
        Assert.Empty(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(f, out _));
        Assert.Equal(77ul, Assert.Single(fs.Store.PendingDeletes(10)).Id);
        Assert.Equal(new VolumeUsage(0, 2), fs.V.Usage());
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Trashed_files_do_not_count_against_the_quota_until_restored()
    {
        using var fs = new Fs();
        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromDays(1));
        VolumeMeta.SetQuota(fs.Store.Kv, 1, new VolumeQuota(1000, 3));
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 1000).Status);
        Assert.Equal(FsStatus.DQuot, fs.V.BeginWrite(Root, f, 1000, 1).Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "f").Status);
        Assert.Equal(new VolumeUsage(0, 1), VolumeMeta.QuotaUsage(fs.Store.Kv, 1)); // the root only
        Assert.Equal(new VolumeUsage(1000, 3), fs.V.Usage()); // the store still holds it all
        ulong g = fs.File("g");
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, g, 0, 1000).Status);
        Assert.Equal(FsStatus.Ok, VolumeMeta.RestoreTrash(fs.Store.Kv, 1, VolumeMeta.ListTrash(fs.Store.Kv, 1)[0].Id, out _, out _));
        Assert.Equal(new VolumeUsage(2000, 3), VolumeMeta.QuotaUsage(fs.Store.Kv, 1)); // an admin restore may go over
        Assert.Equal(FsStatus.DQuot, fs.Create("h").Status);
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Without_trash_remove_frees_at_once_and_hard_links_are_not_trashed()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        Assert.NotEqual(0ul, fs.V.Remove(Root, Fs.RootIno, "f").FreedInode);
        Assert.Empty(VolumeMeta.ListTrash(fs.Store.Kv, 1));

        VolumeMeta.SetTrashRetention(fs.Store.Kv, 1, TimeSpan.FromDays(1));
        ulong g = fs.File("g");
        Assert.Equal(FsStatus.Ok, fs.V.Link(Root, g, Fs.RootIno, "g2").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "g").Status);
        Assert.Empty(VolumeMeta.ListTrash(fs.Store.Kv, 1)); // another name still holds it
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "g2").Status);
        Assert.Single(VolumeMeta.ListTrash(fs.Store.Kv, 1));
        Assert.Equal(TimeSpan.FromDays(1), VolumeMeta.GetTrashRetention(fs.Store.Kv, 1));
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }
}
