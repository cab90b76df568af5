namespace NfsGate.Metadata.Tests;

public class NamespaceTests
{
    private static readonly Credential Root = Credential.Root;

    [Fact]
    public void Root_exists_after_open_and_reopen_is_stable()
    {
        using var fs = new Fs();
        var root = fs.Get(Fs.RootIno);
        Assert.Equal(FileType.Directory, root.Type);
        Assert.Equal(0x1EDu, root.Mode);
        Assert.Equal(2u, root.Nlink);
        Assert.Equal(0u, root.Uid);
        Assert.Equal(0u, root.Gid);
        Assert.Equal(Fs.RootIno, root.Parent);
        Assert.NotEqual(0u, root.Generation);
        Assert.Same(fs.V, fs.Store.OpenVolume(1));
        // A second store over the same engine sees the same root, not a new one.
        var other = new MetadataStore(fs.Store.Kv).OpenVolume(1);
        Assert.Equal(FsStatus.Ok, other.GetAttr(Fs.RootIno, out var again));
        Assert.Equal(root.Generation, again.Generation);
        Assert.Equal(new VolumeUsage(0, 1), fs.V.Usage());
    }

    [Fact]
    public void Volumes_are_separate_namespaces()
    {
        using var fs = new Fs();
        var v2 = fs.Store.OpenVolume(2);
        ulong a = fs.File("a");
        Assert.Equal(FsStatus.NoEnt, v2.Lookup(Root, Fs.RootIno, "a").Status);
        var b = v2.Create(Root, Fs.RootIno, "b", CreateMode.Guarded, default, 0);
        Assert.Equal(a, b.Obj!.Value.Inode); // each volume numbers its own inodes from 2
        Assert.Equal(FsStatus.NoEnt, fs.V.Lookup(Root, Fs.RootIno, "b").Status);
    }

    [Fact]
    public void GetAttr_of_missing_inode_is_NoEnt()
    {
        using var fs = new Fs();
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(999, out _));
    }

    [Fact]
    public void Create_sets_owner_times_and_parent_times()
    {
        using var fs = new Fs();
        var before = fs.Get(Fs.RootIno);
        var cred = new Credential(0, 7, []);
        var r = fs.Create("f", cred: cred, mode: 0x1B6);
        Assert.Equal(FsStatus.Ok, r.Status);
        var f = r.Obj!.Value;
        Assert.Equal(FileType.Regular, f.Type);
        Assert.Equal(0x1B6u, f.Mode);
        Assert.Equal(1u, f.Nlink);
        Assert.Equal(7u, f.Gid);
        Assert.Equal(0ul, f.Parent);
        Assert.Equal(f.Atime, f.Mtime);
        Assert.Equal(f.Mtime, f.Ctime);
        Assert.Equal(before.Wcc, r.DirBefore);
        Assert.True(r.Dir!.Value.Mtime.CompareTo(before.Mtime) >= 0);
        Assert.Equal(r.Dir.Value.Mtime, r.Dir.Value.Ctime);
        Assert.Equal(f, fs.V.Lookup(Root, Fs.RootIno, "f").Obj);
        Assert.Equal(new VolumeUsage(0, 2), fs.V.Usage());
    }

    [Fact]
    public void Inode_numbers_are_never_reused_and_generations_differ()
    {
        using var fs = new Fs();
        var a = fs.Get(fs.File("a"));
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "a").Status);
        var b = fs.Get(fs.File("a"));
        Assert.True(b.Inode > a.Inode);
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(a.Inode, out _));
    }

    [Fact]
    public void Create_modes()
    {
        using var fs = new Fs();
        Assert.Equal(FsStatus.Ok, fs.Create("f").Status);
        Assert.Equal(FsStatus.Exist, fs.Create("f").Status); // guarded
        var unchecked1 = fs.V.Create(Root, Fs.RootIno, "f", CreateMode.Unchecked, default, 0);
        Assert.Equal(FsStatus.Ok, unchecked1.Status);
        Assert.Equal(fs.Get(unchecked1.Obj!.Value.Inode).Inode, unchecked1.Obj.Value.Inode);

        ulong d = fs.Dir("d");
        Assert.Equal(FsStatus.Exist, fs.V.Create(Root, Fs.RootIno, "d", CreateMode.Unchecked, default, 0).Status);
        Assert.Equal(FsStatus.Exist, fs.V.Mkdir(Root, Fs.RootIno, "d", default).Status);
        Assert.Equal(FsStatus.Exist, fs.V.Mkdir(Root, Fs.RootIno, "f", default).Status);
        Assert.NotEqual(0ul, d);
    }

    [Fact]
    public void Unchecked_create_of_existing_file_applies_only_the_size()
    {
        using var fs = new Fs();
        ulong f = fs.File("f", mode: 0x1A4);
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 100).Status);
        var r = fs.V.Create(Root, Fs.RootIno, "f", CreateMode.Unchecked, new SetAttrRequest { Size = 0, Mode = 0x1FF }, 0);
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(0ul, fs.Get(f).Size);
        Assert.Equal(0x1A4u, fs.Get(f).Mode);
        Assert.Equal(new VolumeUsage(0, 2), fs.V.Usage());
    }

    [Fact]
    public void Exclusive_create_retry_with_same_verifier_succeeds_other_verifier_is_Exist()
    {
        using var fs = new Fs();
        var a = fs.V.Create(Root, Fs.RootIno, "x", CreateMode.Exclusive, default, 42);
        Assert.Equal(FsStatus.Ok, a.Status);
        var again = fs.V.Create(Root, Fs.RootIno, "x", CreateMode.Exclusive, default, 42);
        Assert.Equal(FsStatus.Ok, again.Status);
        Assert.Equal(a.Obj!.Value.Inode, again.Obj!.Value.Inode);
        Assert.Equal(FsStatus.Exist, fs.V.Create(Root, Fs.RootIno, "x", CreateMode.Exclusive, default, 43).Status);
        fs.File("plain");
        Assert.Equal(FsStatus.Exist, fs.V.Create(Root, Fs.RootIno, "plain", CreateMode.Exclusive, default, 0).Status);
        // The client then sets the real attributes.
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, a.Obj.Value.Inode, Fs.Mode(0x180), null).Status);
        Assert.Equal(0x180u, fs.Get(a.Obj.Value.Inode).Mode);
    }

    [Theory]
    [InlineData("", FsStatus.Inval)]
    [InlineData(".", FsStatus.Exist)]
    [InlineData("..", FsStatus.Exist)]
    [InlineData("a/b", FsStatus.Inval)]
    [InlineData("a\0b", FsStatus.Inval)]
    public void Bad_names_on_create(string name, FsStatus expected)
    {
        using var fs = new Fs();
        Assert.Equal(expected, fs.Create(name).Status);
        Assert.Equal(expected, fs.Mkdir(name).Status);
        Assert.Equal(expected, fs.V.Symlink(Root, Fs.RootIno, name, "t", default).Status);
        Assert.Equal(expected, fs.V.Mknod(Root, Fs.RootIno, name, FileType.Fifo, default, 0, 0).Status);
        Assert.Equal(expected, fs.V.Link(Root, fs.File("f"), Fs.RootIno, name).Status);
        Assert.Equal(new VolumeUsage(0, 2), fs.V.Usage());
    }

    [Fact]
    public void Name_length_limit_is_255_utf8_bytes()
    {
        using var fs = new Fs();
        Assert.Equal(FsStatus.Ok, fs.Create(new string('a', 255)).Status);
        Assert.Equal(FsStatus.NameTooLong, fs.Create(new string('a', 256)).Status);
        Assert.Equal(FsStatus.Ok, fs.Create(new string('é', 127)).Status);   // 254 bytes
        Assert.Equal(FsStatus.NameTooLong, fs.Create(new string('é', 128)).Status); // 256 bytes in 128 chars
        Assert.Equal(FsStatus.NameTooLong, fs.V.Lookup(Root, Fs.RootIno, new string('a', 256)).Status);
        Assert.Equal(FsStatus.NameTooLong, fs.V.Remove(Root, Fs.RootIno, new string('a', 256)).Status);
        Assert.Equal(FsStatus.NameTooLong, fs.V.Rename(Root, Fs.RootIno, new string('a', 255), Fs.RootIno, new string('b', 256)).Status);
    }

    [Fact]
    public void Lookup_dot_and_dotdot()
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        ulong e = fs.Dir("e", d);
        Assert.Equal(e, fs.V.Lookup(Root, e, ".").Obj!.Value.Inode);
        Assert.Equal(d, fs.V.Lookup(Root, e, "..").Obj!.Value.Inode);
        Assert.Equal(Fs.RootIno, fs.V.Lookup(Root, d, "..").Obj!.Value.Inode);
        Assert.Equal(Fs.RootIno, fs.V.Lookup(Root, Fs.RootIno, "..").Obj!.Value.Inode);
        Assert.Equal(FsStatus.NoEnt, fs.V.Lookup(Root, d, "nope").Status);
        Assert.Equal(d, fs.V.Lookup(Root, d, "nope").Dir!.Value.Inode); // post_op_attr of the dir on failure
        Assert.Equal(FsStatus.NotDir, fs.V.Lookup(Root, fs.File("f"), "x").Status);
        Assert.Equal(FsStatus.Stale, fs.V.Lookup(Root, 12345, "x").Status);
    }

    [Fact]
    public void Directory_link_counts()
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        Assert.Equal(3u, fs.Get(Fs.RootIno).Nlink);
        fs.Dir("a", d);
        fs.Dir("b", d);
        fs.File("f", d);
        Assert.Equal(4u, fs.Get(d).Nlink);
        Assert.Equal(d, fs.Get(fs.V.Lookup(Root, d, "a").Obj!.Value.Inode).Parent);
        Assert.Equal(FsStatus.Ok, fs.V.Rmdir(Root, d, "a").Status);
        Assert.Equal(3u, fs.Get(d).Nlink);
    }

    [Fact]
    public void Hard_links_count_names_and_free_on_last()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        ulong d = fs.Dir("d");
        var r = fs.V.Link(Root, f, d, "g");
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(2u, r.Obj!.Value.Nlink);
        Assert.Equal(d, r.Dir!.Value.Inode);
        Assert.Equal(FsStatus.Exist, fs.V.Link(Root, f, d, "g").Status);
        Assert.Equal(FsStatus.Perm, fs.V.Link(Root, d, Fs.RootIno, "dirlink").Status); // as link(2) on Linux
        Assert.Equal(FsStatus.NotDir, fs.V.Link(Root, f, f, "x").Status);
        Assert.Equal(FsStatus.Stale, fs.V.Link(Root, 999, d, "x").Status);

        var rm = fs.V.Remove(Root, Fs.RootIno, "f");
        Assert.Equal(FsStatus.Ok, rm.Status);
        Assert.Equal(0ul, rm.FreedInode);
        Assert.Equal(1u, fs.Get(f).Nlink);
        rm = fs.V.Remove(Root, d, "g");
        Assert.Equal(f, rm.FreedInode);
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(f, out _));
    }

    [Fact]
    public void Link_count_limit_is_MLink()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        // Set the count near the limit directly rather than making 65,000 links.
        fs.Store.Kv.Transact(t =>
        {
            var a = Codec.DecodeAttr(f, t.Get(Keys.Attr(1, f))!);
            a.Nlink = VolumeMeta.MaxLink;
            t.Set(Keys.Attr(1, f), Codec.EncodeAttr(a));
            var root = Codec.DecodeAttr(1, t.Get(Keys.Attr(1, 1))!);
            root.Nlink = VolumeMeta.MaxLink;
            t.Set(Keys.Attr(1, 1), Codec.EncodeAttr(root));
            return 0;
        });
        Assert.Equal(FsStatus.MLink, fs.V.Link(Root, f, Fs.RootIno, "g").Status);
        Assert.Equal(FsStatus.MLink, fs.Mkdir("sub").Status);
    }

    [Fact]
    public void Remove_and_rmdir_statuses()
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        fs.File("f", d);
        fs.File("top");
        Assert.Equal(FsStatus.IsDir, fs.V.Remove(Root, Fs.RootIno, "d").Status);
        Assert.Equal(FsStatus.NotDir, fs.V.Rmdir(Root, Fs.RootIno, "top").Status);
        Assert.Equal(FsStatus.NotEmpty, fs.V.Rmdir(Root, Fs.RootIno, "d").Status);
        Assert.Equal(FsStatus.NoEnt, fs.V.Remove(Root, Fs.RootIno, "nope").Status);
        Assert.Equal(FsStatus.Inval, fs.V.Rmdir(Root, d, ".").Status);
        Assert.Equal(FsStatus.Inval, fs.V.Rmdir(Root, d, "..").Status);
        Assert.Equal(FsStatus.Inval, fs.V.Remove(Root, d, ".").Status);
        Assert.Equal(FsStatus.NotDir, fs.V.Remove(Root, fs.File("g"), "x").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, d, "f").Status);
        var rd = fs.V.Rmdir(Root, Fs.RootIno, "d");
        Assert.Equal(FsStatus.Ok, rd.Status);
        Assert.Equal(d, rd.FreedInode);
        Assert.Equal(2u, rd.Dir!.Value.Nlink);
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(d, out _));
        Assert.Equal(new VolumeUsage(0, 3), fs.V.Usage());
    }

    [Fact]
    public void Symlink_and_readlink()
    {
        using var fs = new Fs();
        var r = fs.V.Symlink(Root, Fs.RootIno, "l", "../target", default);
        Assert.Equal(FsStatus.Ok, r.Status);
        Assert.Equal(FileType.Symlink, r.Obj!.Value.Type);
        Assert.Equal(9ul, r.Obj.Value.Size);
        Assert.Equal(FsStatus.Ok, fs.V.ReadLink(Root, r.Obj.Value.Inode, out var target, out _));
        Assert.Equal("../target", target);
        Assert.Equal(FsStatus.Inval, fs.V.ReadLink(Root, fs.File("f"), out _, out _));
        Assert.Equal(FsStatus.Stale, fs.V.ReadLink(Root, 999, out _, out _));
        Assert.Equal(FsStatus.NameTooLong, fs.V.Symlink(Root, Fs.RootIno, "long", new string('x', 4097), default).Status);
        Assert.Equal(FsStatus.Inval, fs.V.Symlink(Root, Fs.RootIno, "empty", "", default).Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "l").Status);
        Assert.Equal(FsStatus.Stale, fs.V.ReadLink(Root, r.Obj.Value.Inode, out _, out _));
        Assert.Null(fs.Store.Kv.Read(t => t.Get(Keys.Symlink(1, r.Obj.Value.Inode))));
    }

    [Fact]
    public void Mknod_types()
    {
        using var fs = new Fs();
        var c = fs.V.Mknod(Root, Fs.RootIno, "c", FileType.CharDevice, default, 1, 3);
        Assert.Equal(FsStatus.Ok, c.Status);
        Assert.Equal((1u, 3u), (c.Obj!.Value.RdevMajor, c.Obj.Value.RdevMinor));
        var p = fs.V.Mknod(Root, Fs.RootIno, "p", FileType.Fifo, default, 1, 3);
        Assert.Equal((0u, 0u), (p.Obj!.Value.RdevMajor, p.Obj.Value.RdevMinor));
        Assert.Equal(FsStatus.Ok, fs.V.Mknod(Root, Fs.RootIno, "s", FileType.Socket, default, 0, 0).Status);
        Assert.Equal(FsStatus.Ok, fs.V.Mknod(Root, Fs.RootIno, "b", FileType.BlockDevice, default, 8, 0).Status);
        Assert.Equal(FsStatus.BadType, fs.V.Mknod(Root, Fs.RootIno, "r", FileType.Regular, default, 0, 0).Status);
        Assert.Equal(FsStatus.BadType, fs.V.Mknod(Root, Fs.RootIno, "d", FileType.Directory, default, 0, 0).Status);
    }

    [Fact]
    public void Create_in_missing_or_non_directory()
    {
        using var fs = new Fs();
        Assert.Equal(FsStatus.Stale, fs.Create("x", dir: 999).Status);
        Assert.Equal(FsStatus.NotDir, fs.Create("x", dir: fs.File("f")).Status);
    }
}
