namespace NfsGate.Metadata.Tests;

public class SetAttrTests
{
    private static readonly Credential Root = Credential.Root;

    [Fact]
    public void Guard_mismatch_is_NotSync()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        var a = fs.Get(f);
        Assert.Equal(FsStatus.NotSync, fs.V.SetAttr(Root, f, Fs.Mode(0x1FF), new Timespec(a.Ctime.Seconds - 1, 0)).Status);
        Assert.Equal(0x1A4u, fs.Get(f).Mode);
        var ok = fs.V.SetAttr(Root, f, Fs.Mode(0x1FF), a.Ctime);
        Assert.Equal(FsStatus.Ok, ok.Status);
        Assert.Equal(a.Wcc, ok.ObjBefore);
        Assert.Equal(0x1FFu, ok.Obj!.Value.Mode);
    }

    [Fact]
    public void Size_on_wrong_types_and_too_large()
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        ulong p = fs.V.Mknod(Root, Fs.RootIno, "p", FileType.Fifo, default, 0, 0).Obj!.Value.Inode;
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.IsDir, fs.V.SetAttr(Root, d, new SetAttrRequest { Size = 0 }, null).Status);
        Assert.Equal(FsStatus.Inval, fs.V.SetAttr(Root, p, new SetAttrRequest { Size = 0 }, null).Status);
        Assert.Equal(FsStatus.FBig, fs.V.SetAttr(Root, f, new SetAttrRequest { Size = Layout.MaxFileSize + 1 }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Size = Layout.MaxFileSize }, null).Status);
        Assert.Equal(FsStatus.Stale, fs.V.SetAttr(Root, 999, default, null).Status);
    }

    [Fact]
    public void Size_changes_update_usage_and_times()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        var before = fs.Get(f);
        Thread.Sleep(2);
        var r = fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 1000 }, null);
        Assert.Equal(1000ul, r.Obj!.Value.Size);
        Assert.True(r.Obj.Value.Mtime.CompareTo(before.Mtime) > 0);
        Assert.Equal(1000ul, fs.V.Usage().UsedBytes);
        fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 10 }, null);
        Assert.Equal(10ul, fs.V.Usage().UsedBytes);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Root, Fs.RootIno, "f").Status);
        Assert.Equal(0ul, fs.V.Usage().UsedBytes);
    }

    [Fact]
    public void Times_client_and_server()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        var t = new Timespec(1_000_000, 5);
        var r = fs.V.SetAttr(Root, f, new SetAttrRequest { AtimeHow = TimeHow.ClientTime, Atime = t, MtimeHow = TimeHow.ClientTime, Mtime = t }, null);
        Assert.Equal(t, r.Obj!.Value.Atime);
        Assert.Equal(t, r.Obj.Value.Mtime);
        Assert.NotEqual(t, r.Obj.Value.Ctime);
        r = fs.V.SetAttr(Root, f, new SetAttrRequest { MtimeHow = TimeHow.ServerTime }, null);
        Assert.True(r.Obj!.Value.Mtime.CompareTo(t) > 0);
        Assert.Equal(t, r.Obj.Value.Atime);
    }
}
