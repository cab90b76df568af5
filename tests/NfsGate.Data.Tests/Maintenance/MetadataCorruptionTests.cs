using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Maintenance;

namespace NfsGate.Data.Tests.Maintenance;

/// <summary>Each kind of broken metadata, written straight through the KV, is reported with its kind and inode.</summary>
public sealed class MetadataCorruptionTests : IDisposable
{
    private const uint Vol = 1;
    private static readonly Credential Root = Credential.Root;
    private readonly MetadataStore _store = new(new MemoryKvStore());
    private readonly IVolumeMeta _v;
    private readonly ulong _dir, _file, _link;

    public MetadataCorruptionTests()
    {
        Assert.Equal(Vol, _store.GetOrCreateVolumeId("t"));
        _v = _store.OpenVolume(Vol);
        var mode = new SetAttrRequest { Mode = 0b111_101_101 };
        _dir = _v.Mkdir(Root, INamespace.RootInode, "d", mode).Obj!.Value.Inode;
        _file = _v.Create(Root, _dir, "f", CreateMode.Unchecked, mode, 0).Obj!.Value.Inode;
        _link = _v.Symlink(Root, INamespace.RootInode, "s", "d/f", mode).Obj!.Value.Inode;
        _v.BeginWrite(Root, _file, 0, 100);
        Assert.Equal(FsStatus.Ok, _v.AddSlices(_file, [(0u, new Slice(_store.NewSliceIds(1), 100, 0, 0, 100))], false));
    }

    public void Dispose() => _store.Dispose();

    private IKvStore Kv => _store.Kv;

    private MetadataCheckResult Check() => MetadataChecker.Check(Kv);

    private void Edit(Action<IKvTxn> body) => Kv.Transact(t => { body(t); return 0; });

    private void EditAttr(ulong ino, Func<Attr, Attr> change) => Edit(t =>
        t.Set(Keys.Attr(Vol, ino), Codec.EncodeAttr(change(Codec.DecodeAttr(ino, t.Get(Keys.Attr(Vol, ino))!)))));

    private static void AssertOnly(MetadataCheckResult r, ProblemKind kind, ulong ino)
    {
        var p = Assert.Single(r.Problems);
        Assert.Equal((kind, Vol, ino), (p.Kind, p.Volume, p.Inode));
    }

    [Fact]
    public void Clean_store_counts_everything()
    {
        var r = Check();
        Assert.Empty(r.Problems);
        Assert.Equal((1, 4L, 2L, 1L, 1L), (r.Volumes, r.Inodes, r.Directories, r.Files, r.Symlinks));
        Assert.Equal((1L, 1L, 100UL, 100UL), (r.Chunks, r.Slices, r.FileBytes, r.SliceBytes));
    }

    [Fact]
    public void Bad_file_nlink_is_reported()
    {
        EditAttr(_file, a => a with { Nlink = 3 });
        AssertOnly(Check(), ProblemKind.WrongNlink, _file);
    }

    [Fact]
    public void Bad_directory_nlink_is_reported()
    {
        EditAttr(INamespace.RootInode, a => a with { Nlink = 2 }); // should be 3: d is a subdirectory
        AssertOnly(Check(), ProblemKind.WrongNlink, INamespace.RootInode);
    }

    [Fact]
    public void Dangling_entry_is_reported()
    {
        Edit(t =>
        {
            ulong seq = (ulong)t.IncrementBy(Keys.DirCounter(Vol, _dir), 1) + 2;
            t.Set(Keys.Dentry(Vol, _dir, "ghost"), Codec.EncodeDentry(FileType.Regular, 999, seq));
            t.Set(Keys.ReadDirIndex(Vol, _dir, seq), Codec.EncodeIndex(999, FileType.Regular, "ghost"u8));
        });
        AssertOnly(Check(), ProblemKind.DanglingEntry, _dir);
    }

    [Fact]
    public void Entry_without_index_and_stray_index_are_reported()
    {
        var (_, _, seq) = Codec.DecodeDentry(Kv.Read(r => r.Get(Keys.Dentry(Vol, _dir, "f")))!);
        Edit(t =>
        {
            t.Delete(Keys.ReadDirIndex(Vol, _dir, seq));
            t.Set(Keys.ReadDirIndex(Vol, _dir, seq + 50), Codec.EncodeIndex(_file, FileType.Regular, "f"u8));
        });
        var kinds = Check().Problems.Select(p => p.Kind).Order().ToList();
        Assert.Equal([ProblemKind.MissingIndex, ProblemKind.StrayIndex], kinds);
    }

    [Fact]
    public void Orphan_inode_is_reported()
    {
        var (_, _, seq) = Codec.DecodeDentry(Kv.Read(r => r.Get(Keys.Dentry(Vol, _dir, "f")))!);
        Edit(t =>
        {
            t.Delete(Keys.Dentry(Vol, _dir, "f"));
            t.Delete(Keys.ReadDirIndex(Vol, _dir, seq));
        });
        AssertOnly(Check(), ProblemKind.OrphanInode, _file);
    }

    [Fact]
    public void Wrong_directory_parent_is_reported()
    {
        EditAttr(_dir, a => a with { Parent = _dir });
        AssertOnly(Check(), ProblemKind.WrongParent, _dir);
    }

    [Fact]
    public void Usage_counter_drift_is_reported()
    {
        Edit(t => t.IncrementBy(Keys.UsedBytes(Vol), 7));
        AssertOnly(Check(), ProblemKind.UsageMismatch, 0);
    }

    [Fact]
    public void Slice_outside_its_chunk_and_undecodable_list_are_reported()
    {
        Edit(t => t.Set(Keys.Chunk(Vol, _file, 0), Codec.EncodeSlices(null, [new Slice(5, 100, (uint)Layout.ChunkSize - 10, 0, 20)])));
        AssertOnly(Check(), ProblemKind.BadSlice, _file);
        Edit(t => t.Set(Keys.Chunk(Vol, _file, 0), [Codec.Version, 1, 2, 3]));
        AssertOnly(Check(), ProblemKind.BadValue, _file);
    }

    [Fact]
    public void Symlink_without_target_and_chunk_of_a_directory_are_reported()
    {
        Edit(t => t.Delete(Keys.Symlink(Vol, _link)));
        AssertOnly(Check(), ProblemKind.MissingSymlinkTarget, _link);
        Edit(t =>
        {
            t.Set(Keys.Symlink(Vol, _link), Codec.EncodeString("d/f"));
            t.Set(Keys.Chunk(Vol, _dir, 0), Codec.EncodeSlices(null, [new Slice(0, 10, 0, 0, 10)]));
        });
        AssertOnly(Check(), ProblemKind.StrayKey, _dir);
    }

    [Fact]
    public void Every_volume_is_checked_and_reports_its_own_id()
    {
        uint other = _store.GetOrCreateVolumeId("u");
        var ov = _store.OpenVolume(other);
        ulong g = ov.Create(Root, INamespace.RootInode, "g", CreateMode.Unchecked, new SetAttrRequest { Mode = 0x1A4 }, 0).Obj!.Value.Inode;
        Edit(t =>
        {
            var a = Codec.DecodeAttr(g, t.Get(Keys.Attr(other, g))!);
            a.Nlink = 0;
            t.Set(Keys.Attr(other, g), Codec.EncodeAttr(a));
        });
        var r = Check();
        Assert.Equal(2, r.Volumes);
        var p = Assert.Single(r.Problems);
        Assert.Equal((ProblemKind.WrongNlink, other, g), (p.Kind, p.Volume, p.Inode));
    }
}
