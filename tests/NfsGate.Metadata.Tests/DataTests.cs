namespace NfsGate.Metadata.Tests;

public class DataTests
{
    private static readonly Credential Root = Credential.Root;
    private const uint Chunk = (uint)(Layout.ChunkSize);

    [Fact]
    public void BeginWrite_extends_size_and_checks_limits()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        var before = fs.Get(f);
        var r = fs.V.BeginWrite(Root, f, 100, 50);
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(before.Wcc, r.ObjBefore);
        Assert.Equal(150ul, r.Obj!.Value.Size);
        Assert.Equal(150ul, fs.V.BeginWrite(Root, f, 0, 10).Obj!.Value.Size); // never shrinks
        Assert.Equal(150ul, fs.V.Usage().UsedBytes);
        Assert.Equal(FsStatus.FBig, fs.V.BeginWrite(Root, f, Layout.MaxFileSize, 1).Status);
        Assert.Equal(FsStatus.Stale, fs.V.BeginWrite(Root, 999, 0, 1).Status);
        ulong l = fs.V.Symlink(Root, Fs.RootIno, "l", "t", default).Obj!.Value.Inode;
        Assert.Equal(FsStatus.Inval, fs.V.BeginWrite(Root, l, 0, 1).Status);
    }

    [Fact]
    public void AddSlices_appends_in_order_per_chunk()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        ulong id = fs.Store.NewSliceIds(3);
        var s1 = new Slice(id, 10, 0, 0, 10);
        var s2 = new Slice(id + 1, 5, 3, 0, 5);
        var s3 = new Slice(id + 2, 7, 0, 0, 7);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, s1), (2, s3), (0, s2)], durable: true));
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 0, out var c0));
        Assert.Equal([s1, s2], c0);
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 2, out var c2));
        Assert.Equal([s3], c2);
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 1, out var hole));
        Assert.Empty(hole);
        Assert.Equal(FsStatus.Stale, fs.V.ReadChunk(999, 0, out _));
    }

    [Fact]
    public void AddSlices_to_a_removed_file_is_Stale_and_queues_the_slices()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "f").Status);
        Assert.Equal(FsStatus.Stale, fs.V.AddSlices(f, [(0, new Slice(77, 10, 0, 0, 10))], false));
        Assert.Equal([new DeadSlice(77, 10)], fs.Store.PendingDeletes(10));
        Assert.Null(fs.Store.Kv.Read(r => r.Get(Keys.Chunk(1, f, 0))));
    }

    [Fact]
    public void Remove_and_rename_say_whether_they_queued_slices()
    {
        // The data path wakes the background deleter only when there is something to delete.
        using var fs = new Fs();
        fs.File("empty");
        var rm = fs.V.Remove(Root, Fs.RootIno, "empty");
        Assert.NotEqual(0ul, rm.FreedInode);
        Assert.False(rm.QueuedDeletes);

        ulong f = fs.File("full");
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, new Slice(fs.Store.NewSliceIds(1), 10, 0, 0, 10))], durable: false));
        Assert.True(fs.V.Remove(Root, Fs.RootIno, "full").QueuedDeletes);

        ulong g = fs.File("g");
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(g, [(0, new Slice(fs.Store.NewSliceIds(1), 10, 0, 0, 10))], durable: false));
        fs.File("h");
        Assert.False(fs.V.Rename(Root, Fs.RootIno, "g", Fs.RootIno, "h").QueuedDeletes); // h was empty
        fs.File("i");
        Assert.True(fs.V.Rename(Root, Fs.RootIno, "i", Fs.RootIno, "h").QueuedDeletes);  // h now holds g's slice
    }

    [Fact]
    public void Removing_the_last_link_queues_every_slice_and_drops_chunks()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        fs.V.BeginWrite(Root, f, 0, 100);
        fs.V.AddSlices(f, [(0, new Slice(1, 100, 0, 0, 100)), (5, new Slice(2, 20, 0, 0, 20)), (0, new Slice(0, 5, 0, 0, 5))], false);
        Assert.Equal(FsStatus.Ok, fs.V.Link(Root, f, Fs.RootIno, "g").Status);
        fs.V.Remove(Root, Fs.RootIno, "f");
        Assert.Empty(fs.Store.PendingDeletes(10)); // still linked
        fs.V.Remove(Root, Fs.RootIno, "g");
        var dead = fs.Store.PendingDeletes(10);
        Assert.Equal([1ul, 2ul], dead.Select(d => d.Id).Order()); // the hole (id 0) owns no object
        Assert.Empty(fs.Store.Kv.Read(r => r.Scan(Keys.Chunk(1, f, 0), Keys.ChunkEnd(1, f), 10)));
        fs.Store.AckDeletes(dead);
        Assert.Empty(fs.Store.PendingDeletes(10));
        fs.Store.AckDeletes(dead); // twice is harmless
    }

    [Fact]
    public void Shrinking_drops_whole_chunks_and_appends_a_hole_in_the_partial_one()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 3UL * Chunk }, null);
        var a = new Slice(10, Chunk, 0, 0, Chunk);
        var b = new Slice(11, Chunk, 0, 0, Chunk);
        var c = new Slice(12, Chunk, 0, 0, Chunk);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, a), (1, b), (2, c)], false));

        ulong newSize = Chunk + 1000;
        var r = fs.V.SetAttr(Root, f, new SetAttrRequest { Size = newSize }, null);
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(newSize, fs.V.Usage().UsedBytes);
        fs.V.ReadChunk(f, 0, out var c0);
        Assert.Equal([a], c0);
        fs.V.ReadChunk(f, 1, out var c1);
        Assert.Equal([b, new Slice(0, Chunk - 1000, 1000, 0, Chunk - 1000)], c1);
        fs.V.ReadChunk(f, 2, out var c2);
        Assert.Empty(c2);
        Assert.Equal([new DeadSlice(12, Chunk)], fs.Store.PendingDeletes(10));

        // Extending is only the size: no slices change.
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 5UL * Chunk }, null);
        fs.V.ReadChunk(f, 1, out var again);
        Assert.Equal(2, again.Count);
        Assert.Equal(5UL * Chunk, fs.Get(f).Size);

        // To zero: every chunk goes.
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 0 }, null);
        Assert.Empty(fs.Store.Kv.Read(r2 => r2.Scan(Keys.Chunk(1, f, 0), Keys.ChunkEnd(1, f), 10)));
        Assert.Equal([10ul, 11ul, 12ul], fs.Store.PendingDeletes(10).Select(d => d.Id).Order());
    }

    [Fact]
    public void Shrinking_to_a_chunk_boundary_adds_no_hole()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 2UL * Chunk }, null);
        fs.V.AddSlices(f, [(0, new Slice(10, 5, 0, 0, 5)), (1, new Slice(11, 5, 0, 0, 5))], false);
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = Chunk }, null);
        fs.V.ReadChunk(f, 0, out var c0);
        Assert.Single(c0);
        fs.V.ReadChunk(f, 1, out var c1);
        Assert.Empty(c1);
    }
}

public class StoreTests
{
    [Fact]
    public void Volume_ids_are_persistent_per_name_from_1()
    {
        using var fs = new Fs();
        uint a = fs.Store.GetOrCreateVolumeId("/a");
        uint b = fs.Store.GetOrCreateVolumeId("/b");
        Assert.Equal(1u, a);
        Assert.Equal(2u, b);
        Assert.Equal(a, fs.Store.GetOrCreateVolumeId("/a"));
        Assert.Equal(b, new MetadataStore(fs.Store.Kv).GetOrCreateVolumeId("/b"));
        Assert.Throws<ArgumentException>(() => fs.Store.GetOrCreateVolumeId(new string('x', 2000)));
    }

    [Fact]
    public void Secret_is_32_bytes_generated_once()
    {
        using var fs = new Fs();
        var s = fs.Store.GetOrCreateSecret();
        Assert.Equal(32, s.Length);
        Assert.Equal(s, fs.Store.GetOrCreateSecret());
        Assert.Equal(s, new MetadataStore(fs.Store.Kv).GetOrCreateSecret());
        Assert.NotEqual(s, new Fs().Store.GetOrCreateSecret());
    }

    [Fact]
    public void Slice_ids_are_consecutive_and_never_reused()
    {
        using var fs = new Fs();
        Assert.Equal(1ul, fs.Store.NewSliceIds(5));
        Assert.Equal(6ul, fs.Store.NewSliceIds(1));
        Assert.Equal(7ul, new MetadataStore(fs.Store.Kv).NewSliceIds(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => fs.Store.NewSliceIds(0));
    }

    [Fact]
    public void Pending_deletes_are_oldest_first_and_capped()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        fs.V.Remove(Credential.Root, Fs.RootIno, "f");
        fs.V.AddSlices(f, [(0, new Slice(9, 1, 0, 0, 1))], false);
        Thread.Sleep(5);
        fs.V.AddSlices(f, [(0, new Slice(3, 1, 0, 0, 1))], false);
        Assert.Equal([9ul, 3ul], fs.Store.PendingDeletes(10).Select(d => d.Id));
        Assert.Single(fs.Store.PendingDeletes(1));
        Assert.Empty(fs.Store.PendingDeletes(0));
    }
}
