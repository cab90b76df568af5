namespace NfsGate.Metadata.Tests;

public class RenameTests
{
    private static readonly Credential Root = Credential.Root;

    [Fact]
    public void Rename_within_a_directory_moves_the_name()
    {
        using var fs = new Fs();
        ulong f = fs.File("a");
        var r = fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(FsStatus.NoEnt, fs.V.Lookup(Root, Fs.RootIno, "a").Status);
        Assert.Equal(f, fs.V.Lookup(Root, Fs.RootIno, "b").Obj!.Value.Inode);
        Assert.Equal(["." , "..", "b"], fs.List(Fs.RootIno));
        Assert.Equal(r.Dir, r.Dir2);
    }

    [Fact]
    public void File_over_file_frees_the_target()
    {
        using var fs = new Fs();
        ulong a = fs.File("a");
        ulong b = fs.File("b");
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, b, 0, 10).Status);
        var r = fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(b, r.FreedInode);
        Assert.Equal(a, fs.V.Lookup(Root, Fs.RootIno, "b").Obj!.Value.Inode);
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(b, out _));
        Assert.Equal(new VolumeUsage(0, 2), fs.V.Usage());
    }

    [Fact]
    public void File_over_linked_file_only_drops_a_link()
    {
        using var fs = new Fs();
        fs.File("a");
        ulong b = fs.File("b");
        Assert.Equal(FsStatus.Ok, fs.V.Link(Root, b, Fs.RootIno, "b2").Status);
        var r = fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b");
        Assert.Equal(0ul, r.FreedInode);
        Assert.Equal(1u, fs.Get(b).Nlink);
    }

    [Fact]
    public void Directory_over_empty_directory_across_parents()
    {
        using var fs = new Fs();
        ulong p1 = fs.Dir("p1");
        ulong p2 = fs.Dir("p2");
        ulong src = fs.Dir("src", p1);
        fs.File("inside", src);
        ulong dst = fs.Dir("dst", p2);
        var r = fs.V.Rename(Root, p1, "src", p2, "dst");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(dst, r.FreedInode);
        Assert.Equal(2u, fs.Get(p1).Nlink);
        Assert.Equal(3u, fs.Get(p2).Nlink);
        Assert.Equal(p2, fs.Get(src).Parent);
        Assert.Equal(p2, fs.V.Lookup(Root, src, "..").Obj!.Value.Inode);
        Assert.Equal(p1, r.Dir!.Value.Inode);
        Assert.Equal(p2, r.Dir2!.Value.Inode);
    }

    [Fact]
    public void Directory_moved_to_new_parent_fixes_link_counts()
    {
        using var fs = new Fs();
        ulong p1 = fs.Dir("p1");
        ulong p2 = fs.Dir("p2");
        ulong d = fs.Dir("d", p1);
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Root, p1, "d", p2, "d").Status);
        Assert.Equal(2u, fs.Get(p1).Nlink);
        Assert.Equal(3u, fs.Get(p2).Nlink);
        Assert.Equal(p2, fs.Get(d).Parent);
        Assert.Equal(4u, fs.Get(Fs.RootIno).Nlink);
    }

    [Fact]
    public void Directory_over_empty_directory_in_same_parent()
    {
        using var fs = new Fs();
        fs.Dir("a");
        fs.Dir("b");
        Assert.Equal(4u, fs.Get(Fs.RootIno).Nlink);
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b").Status);
        Assert.Equal(3u, fs.Get(Fs.RootIno).Nlink);
    }

    [Fact]
    public void Type_mismatch_and_non_empty_target()
    {
        using var fs = new Fs();
        fs.File("f");
        ulong d = fs.Dir("d");
        fs.Dir("full");
        fs.File("x", fs.V.Lookup(Root, Fs.RootIno, "full").Obj!.Value.Inode);
        Assert.Equal(FsStatus.IsDir, fs.V.Rename(Root, Fs.RootIno, "f", Fs.RootIno, "d").Status);
        Assert.Equal(FsStatus.NotDir, fs.V.Rename(Root, Fs.RootIno, "d", Fs.RootIno, "f").Status);
        Assert.Equal(FsStatus.NotEmpty, fs.V.Rename(Root, Fs.RootIno, "d", Fs.RootIno, "full").Status);
        Assert.Equal(FsStatus.NoEnt, fs.V.Rename(Root, Fs.RootIno, "nope", Fs.RootIno, "z").Status);
        Assert.Equal(FsStatus.NotDir, fs.V.Rename(Root, fs.Get(d).Inode, "x", fs.V.Lookup(Root, Fs.RootIno, "f").Obj!.Value.Inode, "y").Status);
        Assert.Equal(FsStatus.Stale, fs.V.Rename(Root, 999, "x", Fs.RootIno, "y").Status);
    }

    [Fact]
    public void Same_inode_is_a_successful_no_op()
    {
        using var fs = new Fs();
        ulong f = fs.File("a");
        Assert.Equal(FsStatus.Ok, fs.V.Link(Root, f, Fs.RootIno, "b").Status);
        var r = fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(0ul, r.FreedInode);
        Assert.Equal(2u, fs.Get(f).Nlink);
        Assert.Equal([".", "..", "a", "b"], fs.List(Fs.RootIno));
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "a").Status);
        Assert.Equal([".", "..", "a", "b"], fs.List(Fs.RootIno));
    }

    [Fact]
    public void Directory_into_its_own_subtree_is_Inval()
    {
        using var fs = new Fs();
        ulong a = fs.Dir("a");
        ulong b = fs.Dir("b", a);
        ulong c = fs.Dir("c", b);
        Assert.Equal(FsStatus.Inval, fs.V.Rename(Root, Fs.RootIno, "a", c, "a").Status);
        Assert.Equal(FsStatus.Inval, fs.V.Rename(Root, Fs.RootIno, "a", a, "x").Status);
        Assert.Equal(FsStatus.Inval, fs.V.Rename(Root, a, "b", c, "x").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Root, b, "c", Fs.RootIno, "c").Status);
        Assert.Equal(Fs.RootIno, fs.Get(c).Parent);
    }

    [Theory]
    [InlineData(".", "x")]
    [InlineData("..", "x")]
    [InlineData("a", ".")]
    [InlineData("a", "..")]
    [InlineData("a", "")]
    [InlineData("a", "x/y")]
    public void Dot_names_and_bad_names_are_Inval(string from, string to)
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        fs.File("a", d);
        Assert.Equal(FsStatus.Inval, fs.V.Rename(Root, d, from, d, to).Status);
    }

    [Fact]
    public void Renamed_entry_keeps_inode_and_changes_ctime()
    {
        using var fs = new Fs();
        var before = fs.Get(fs.File("a"));
        Thread.Sleep(2);
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Root, Fs.RootIno, "a", Fs.RootIno, "b").Status);
        var after = fs.Get(before.Inode);
        Assert.Equal(before.Generation, after.Generation);
        Assert.True(after.Ctime.CompareTo(before.Ctime) > 0);
    }
}
