namespace NfsGate.Metadata.Tests;

public class PermissionTests
{
    private static readonly Credential Root = Credential.Root;
    private static readonly Credential Owner = new(1000, 100, []);
    private static readonly Credential GroupMember = new(1001, 200, [100]); // in group 100 via supplementary groups
    private static readonly Credential Other = new(1002, 300, []);

    private static Attr File(uint mode, FileType type = FileType.Regular) => new() { Type = type, Mode = mode, Uid = 1000, Gid = 100 };

    public static TheoryData<uint, string, uint, bool> Matrix => new()
    {
        // mode, who, want (r=4 w=2 x=1), allowed
        { 0x1C0 /*0700*/, "owner", 7, true },
        { 0x1C0, "group", 4, false },
        { 0x1C0, "other", 4, false },
        { 0x038 /*0070*/, "owner", 4, false }, // owner class decides even when group would allow
        { 0x038, "group", 7, true },
        { 0x038, "other", 1, false },
        { 0x007 /*0007*/, "owner", 4, false },
        { 0x007, "group", 4, false },
        { 0x007, "other", 7, true },
        { 0x1A4 /*0644*/, "group", 2, false },
        { 0x1A4, "other", 4, true },
        { 0x000, "root", 6, true },  // root bypasses read/write
        { 0x000, "root", 1, false }, // but needs some x bit to execute a file
        { 0x008 /*0010*/, "root", 1, true },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Mode_bit_matrix(uint mode, string who, uint want, bool allowed)
    {
        var cred = who switch { "owner" => Owner, "group" => GroupMember, "other" => Other, _ => Root };
        Assert.Equal(allowed, Permissions.Allows(cred, File(mode), want));
    }

    [Fact]
    public void Root_may_always_search_directories()
    {
        Assert.True(Permissions.Allows(Root, File(0, FileType.Directory), Permissions.Exec));
    }

    [Fact]
    public void Access_mask_from_mode_bits()
    {
        const AccessMask all = AccessMask.Read | AccessMask.Lookup | AccessMask.Modify | AccessMask.Extend | AccessMask.Delete | AccessMask.Execute;
        Assert.Equal(AccessMask.Read | AccessMask.Modify | AccessMask.Extend, Permissions.Access(Owner, File(0x1A4), all));
        Assert.Equal(AccessMask.Read, Permissions.Access(Other, File(0x1A4), all));
        Assert.Equal(AccessMask.Read | AccessMask.Execute | AccessMask.Lookup, Permissions.Access(Other, File(0x1ED), all));
        Assert.Equal(all, Permissions.Access(Owner, File(0x1ED, FileType.Directory), all));
        Assert.Equal(AccessMask.Read | AccessMask.Lookup | AccessMask.Execute, Permissions.Access(Other, File(0x1ED, FileType.Directory), all));
        Assert.Equal(AccessMask.Read, Permissions.Access(Other, File(0x1ED), AccessMask.Read)); // only what was asked
        Assert.Equal(AccessMask.Read | AccessMask.Modify | AccessMask.Extend, Permissions.Access(Root, File(0), all));
    }

    [Fact]
    public void Access_call_reports_granted_and_attrs()
    {
        using var fs = new Fs();
        ulong f = fs.File("f", mode: 0x180);
        Assert.Equal(FsStatus.Ok, fs.V.Access(Other, f, AccessMask.Read | AccessMask.Modify, out var granted, out var attr));
        Assert.Equal((AccessMask)0, granted);
        Assert.Equal(f, attr.Inode);
        Assert.Equal(FsStatus.Stale, fs.V.Access(Other, 999, AccessMask.Read, out _, out _));
    }

    private static (Fs fs, ulong dir) SharedDir(uint mode)
    {
        var fs = new Fs();
        ulong d = fs.Dir("d", mode: mode);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, d, new SetAttrRequest { Uid = 1000, Gid = 100 }, null).Status);
        return (fs, d);
    }

    [Fact]
    public void Lookup_needs_search_permission()
    {
        var (fs, d) = SharedDir(0x1C0); // 0700
        using var _ = fs;
        fs.File("x", d);
        Assert.Equal(FsStatus.Acces, fs.V.Lookup(Other, d, "x").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Lookup(Owner, d, "x").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Lookup(Root, d, "x").Status);
    }

    [Fact]
    public void Create_and_remove_need_write_and_search_on_the_directory()
    {
        var (fs, d) = SharedDir(0x1ED); // 0755
        using var _ = fs;
        Assert.Equal(FsStatus.Acces, fs.Create("x", d, Other).Status);
        Assert.Equal(FsStatus.Acces, fs.Mkdir("x", d, Other).Status);
        Assert.Equal(FsStatus.Ok, fs.Create("x", d, Owner).Status);
        Assert.Equal(FsStatus.Exist, fs.Create("x", d, Other).Status); // existence is seen with search permission alone
        Assert.Equal(FsStatus.Acces, fs.V.Remove(Other, d, "x").Status);
        Assert.Equal(FsStatus.Acces, fs.V.Rename(Other, d, "x", d, "y").Status);
        Assert.Equal(FsStatus.Acces, fs.V.Link(Other, fs.V.Lookup(Root, d, "x").Obj!.Value.Inode, d, "y").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Owner, d, "x").Status);
        // write without search is not enough
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, d, Fs.Mode(0x1BF /*0677*/), null).Status);
        Assert.Equal(FsStatus.Acces, fs.Create("y", d, Owner).Status);
    }

    [Fact]
    public void Sticky_directory_limits_removal_to_owners()
    {
        var (fs, d) = SharedDir(0x3FF); // 1777
        using var _ = fs;
        var alice = new Credential(2000, 300, []);
        Assert.Equal(FsStatus.Ok, fs.Create("a", d, alice).Status);
        Assert.Equal(FsStatus.Ok, fs.Create("o", d, Other).Status);
        Assert.Equal(FsStatus.Perm, fs.V.Remove(Other, d, "a").Status);
        Assert.Equal(FsStatus.Perm, fs.V.Rename(Other, d, "a", d, "b").Status);
        Assert.Equal(FsStatus.Perm, fs.V.Rename(Other, d, "o", d, "a").Status); // replacing someone else's entry
        Assert.Equal(FsStatus.Ok, fs.V.Rename(alice, d, "a", d, "a2").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Owner, d, "a2").Status); // directory owner
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Other, d, "o").Status);  // file owner
    }

    [Fact]
    public void Setgid_directory_passes_group_and_bit_down()
    {
        var (fs, d) = SharedDir(0x5FF); // 2777
        using var _ = fs;
        var f = fs.Create("f", d, Other).Obj!.Value;
        Assert.Equal(100u, f.Gid);
        var sub = fs.Mkdir("sub", d, Other, 0x1ED).Obj!.Value;
        Assert.Equal(100u, sub.Gid);
        Assert.NotEqual(0u, sub.Mode & Permissions.SetGid);
        var plain = fs.Mkdir("plain", cred: Root).Obj!.Value;
        Assert.Equal(0u, plain.Mode & Permissions.SetGid);
    }

    [Fact]
    public void Chown_rules()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Uid = 1000, Gid = 100 }, null).Status);
        Assert.Equal(FsStatus.Perm, fs.V.SetAttr(Owner, f, new SetAttrRequest { Uid = 1001 }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, new SetAttrRequest { Uid = 1000 }, null).Status); // same uid: no change
        var owner2 = new Credential(1000, 100, [500]);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(owner2, f, new SetAttrRequest { Gid = 500 }, null).Status);
        Assert.Equal(FsStatus.Perm, fs.V.SetAttr(owner2, f, new SetAttrRequest { Gid = 600 }, null).Status);
        Assert.Equal(FsStatus.Perm, fs.V.SetAttr(GroupMember, f, new SetAttrRequest { Gid = 100 }, null).Status); // not the owner
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Uid = 7, Gid = 8 }, null).Status);
        Assert.Equal((7u, 8u), (fs.Get(f).Uid, fs.Get(f).Gid));
    }

    [Fact]
    public void Chmod_and_client_times_only_by_owner_or_root()
    {
        using var fs = new Fs().OpenRoot();
        ulong f = fs.File("f", cred: Owner, mode: 0x1B6); // 0666: anyone may write
        Assert.Equal(FsStatus.Perm, fs.V.SetAttr(Other, f, Fs.Mode(0x1FF), null).Status);
        Assert.Equal(FsStatus.Perm, fs.V.SetAttr(Other, f, new SetAttrRequest { MtimeHow = TimeHow.ClientTime, Mtime = new(5, 0) }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Other, f, new SetAttrRequest { MtimeHow = TimeHow.ServerTime, AtimeHow = TimeHow.ServerTime }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, Fs.Mode(0x180), null).Status);
        Assert.Equal(FsStatus.Acces, fs.V.SetAttr(Other, f, new SetAttrRequest { MtimeHow = TimeHow.ServerTime }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, new SetAttrRequest { MtimeHow = TimeHow.ClientTime, Mtime = new(5, 0) }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, Fs.Mode(0x1FF), null).Status);
    }

    [Fact]
    public void Chmod_by_non_member_clears_setgid()
    {
        using var fs = new Fs().OpenRoot();
        ulong f = fs.File("f", cred: Owner);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Gid = 999 }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, Fs.Mode(0xDED /*06755*/), null).Status);
        Assert.Equal(0x9EDu, fs.Get(f).Mode); // 04755: setgid dropped, setuid kept
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, Fs.Mode(0xDED), null).Status);
        Assert.Equal(0xDEDu, fs.Get(f).Mode);
    }

    [Fact]
    public void Size_change_needs_write_with_owner_override()
    {
        using var fs = new Fs().OpenRoot();
        ulong f = fs.File("f", cred: Owner, mode: 0x124); // 0444
        Assert.Equal(FsStatus.Acces, fs.V.SetAttr(Other, f, new SetAttrRequest { Size = 5 }, null).Status);
        Assert.Equal(FsStatus.Acces, fs.V.SetAttr(Other, f, new SetAttrRequest { Size = 0 }, null).Status); // same size: still a write
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, new SetAttrRequest { Size = 5 }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Size = 6 }, null).Status);
    }

    [Fact]
    public void Non_root_write_or_chown_clears_setuid_and_setgid()
    {
        using var fs = new Fs().OpenRoot();
        ulong f = fs.File("f", cred: Owner, mode: 0xDFF); // 06777
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 1).Status);
        Assert.Equal(0xDFFu, fs.Get(f).Mode);
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Other, f, 0, 1).Status);
        Assert.Equal(0x1FFu, fs.Get(f).Mode);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Owner, f, Fs.Mode(0xDFF), null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(new Credential(1000, 100, [50]), f, new SetAttrRequest { Gid = 50 }, null).Status);
        Assert.Equal(0x1FFu, fs.Get(f).Mode);
    }

    [Fact]
    public void Read_and_write_use_owner_override()
    {
        using var fs = new Fs().OpenRoot();
        ulong f = fs.File("f", cred: Owner, mode: 0);
        Assert.Equal(FsStatus.Ok, fs.V.CheckRead(Owner, f, out _));
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Owner, f, 0, 10).Status);
        Assert.Equal(FsStatus.Acces, fs.V.CheckRead(Other, f, out _));
        Assert.Equal(FsStatus.Acces, fs.V.BeginWrite(Other, f, 0, 10).Status);
        Assert.Equal(FsStatus.Ok, fs.V.CheckRead(Root, f, out _));
        Assert.Equal(FsStatus.IsDir, fs.V.CheckRead(Root, Fs.RootIno, out _));
        Assert.Equal(FsStatus.IsDir, fs.V.BeginWrite(Root, Fs.RootIno, 0, 1).Status);
        Assert.Equal(FsStatus.Stale, fs.V.CheckRead(Root, 999, out _));
    }

    [Fact]
    public void ReadDir_needs_read_permission()
    {
        var (fs, d) = SharedDir(0x1C0);
        using var _ = fs;
        Assert.Equal(FsStatus.Acces, fs.V.ReadDir(Other, d, 0, 0, 10, false).Status);
        Assert.Equal(FsStatus.Ok, fs.V.ReadDir(Owner, d, 0, 0, 10, false).Status);
    }

    [Fact]
    public void Moving_a_directory_to_a_new_parent_needs_write_on_it()
    {
        using var fs = new Fs();
        ulong a = fs.Dir("a", mode: 0x1FF);
        ulong b = fs.Dir("b", mode: 0x1FF);
        fs.Dir("sub", a, Root, 0x1ED); // root's, not writable by Other
        Assert.Equal(FsStatus.Acces, fs.V.Rename(Other, a, "sub", b, "sub").Status);
        Assert.Equal(FsStatus.Ok, fs.V.Rename(Other, a, "sub", a, "sub2").Status); // same parent: ".." unchanged
    }

    [Fact]
    public void Create_ownership_requests_are_checked()
    {
        using var fs = new Fs();
        fs.V.SetAttr(Root, Fs.RootIno, Fs.Mode(0x1FF), null);
        Assert.Equal(FsStatus.Perm, fs.V.Create(Other, Fs.RootIno, "x", CreateMode.Guarded, new SetAttrRequest { Uid = 0 }, 0).Status);
        Assert.Equal(FsStatus.Perm, fs.V.Create(Other, Fs.RootIno, "x", CreateMode.Guarded, new SetAttrRequest { Gid = 0 }, 0).Status);
        Assert.Equal(FsStatus.NoEnt, fs.V.Lookup(Root, Fs.RootIno, "x").Status);
        var ok = fs.V.Create(Other, Fs.RootIno, "x", CreateMode.Guarded, new SetAttrRequest { Gid = 300 }, 0);
        Assert.Equal((1002u, 300u), (ok.Obj!.Value.Uid, ok.Obj.Value.Gid));
    }
}
