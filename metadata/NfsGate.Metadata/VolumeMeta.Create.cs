namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    private const uint DefaultFileMode = 0x1A4; // 0644, when the client sends no mode (e.g. exclusive create)
    private const uint DefaultDirMode = 0x1ED;  // 0755
    private const uint SymlinkMode = 0x1FF;     // 0777: permissions of symlinks are never checked

    /// <summary>
    /// CREATE. Unchecked over an existing regular file succeeds and applies only the size (O_TRUNC), as knfsd does;
    /// over anything else it is Exist. Guarded: Exist. Exclusive: the verifier is stored with the file; a retry with
    /// the same verifier returns the same file, a different one is Exist.
    /// </summary>
    public OpResult Create(Credential cred, ulong dir, string name, CreateMode mode, in SetAttrRequest attrs, ulong verifier)
    {
        return MakeNode(cred, dir, name, FileType.Regular, attrs, 0, 0, null, mode, verifier);
    }

    public OpResult Mkdir(Credential cred, ulong dir, string name, in SetAttrRequest attrs) =>
        MakeNode(cred, dir, name, FileType.Directory, attrs, 0, 0, null, CreateMode.Guarded, 0);

    /// <summary>Symlink: NameTooLong if the target exceeds <see cref="Names.MaxSymlinkBytes"/>; Inval if it is empty.</summary>
    public OpResult Symlink(Credential cred, ulong dir, string name, string target, in SetAttrRequest attrs)
    {
        if (target.Length == 0) return OpResult.Fail(FsStatus.Inval);
        if (System.Text.Encoding.UTF8.GetByteCount(target) > Names.MaxSymlinkBytes) return OpResult.Fail(FsStatus.NameTooLong);
        return MakeNode(cred, dir, name, FileType.Symlink, attrs, 0, 0, target, CreateMode.Guarded, 0);
    }

    public OpResult Mknod(Credential cred, ulong dir, string name, FileType type, in SetAttrRequest attrs, uint major, uint minor)
    {
        if (type is not (FileType.Fifo or FileType.Socket or FileType.CharDevice or FileType.BlockDevice))
            return OpResult.Fail(FsStatus.BadType);
        bool dev = type is FileType.CharDevice or FileType.BlockDevice;
        return MakeNode(cred, dir, name, type, attrs, dev ? major : 0, dev ? minor : 0, null, CreateMode.Guarded, 0);
    }

    private OpResult MakeNode(Credential cred, ulong dir, string name, FileType type, SetAttrRequest attrs,
        uint major, uint minor, string? target, CreateMode mode, ulong verifier)
    {
        var now = Timespec.Now();
        var nameBytes = MetaTxn.NameBytes(name);
        var targetValue = target is null ? null : Codec.EncodeString(target);
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            if (!tx.TryGetAttr(dir, out var d)) return OpResult.Fail(FsStatus.Stale);
            res.Dir = d;
            res.DirBefore = d.Wcc;
            if (d.Type != FileType.Directory) return Fail(res, FsStatus.NotDir);
            var st = Names.CheckNew(name);
            if (st != FsStatus.Ok) return Fail(res, st);
            if (!Permissions.Allows(cred, d, Permissions.Exec)) return Fail(res, FsStatus.Acces);

            if (tx.TryGetDentry(dir, nameBytes, out _, out var existingIno, out _))
            {
                if (!tx.TryGetAttr(existingIno, out var e)) return Fail(res, FsStatus.Exist);
                res.Obj = e;
                if (type != FileType.Regular || e.Type != FileType.Regular) return Fail(res, FsStatus.Exist);
                if (mode == CreateMode.Exclusive)
                {
                    var v = t.Get(Keys.Verifier(_vol, existingIno));
                    return v is not null && Codec.DecodeU64(v) == verifier ? res : Fail(res, FsStatus.Exist);
                }
                if (mode == CreateMode.Guarded) return Fail(res, FsStatus.Exist);
                if (attrs.Size is ulong size && size != e.Size)
                {
                    if (size > Layout.MaxFileSize) return Fail(res, FsStatus.FBig);
                    if (!Permissions.AllowsWithOwnerOverride(cred, e, Permissions.Write)) return Fail(res, FsStatus.Acces);
                    res.ObjBefore = e.Wcc;
                    tx.SetSize(ref e, size, ChunkSize);
                    if (!cred.IsRoot) e.Mode &= ~(Permissions.SetUid | Permissions.SetGid);
                    tx.PutAttr(e);
                    res.Obj = e;
                }
                return res;
            }

            if (!Permissions.Allows(cred, d, Permissions.Write | Permissions.Exec)) return Fail(res, FsStatus.Acces);
            if (attrs.Uid is uint u && u != cred.Uid && !cred.IsRoot) return Fail(res, FsStatus.Perm);
            if (attrs.Gid is uint g && !cred.IsRoot && !cred.InGroup(g)) return Fail(res, FsStatus.Perm);
            if (type == FileType.Regular && attrs.Size > Layout.MaxFileSize) return Fail(res, FsStatus.FBig);
            if (type == FileType.Directory && d.Nlink >= MaxLink) return Fail(res, FsStatus.MLink);
            var quota = CheckQuota(t, _vol, type == FileType.Regular ? (long)(attrs.Size ?? 0) : 0, 1);
            if (quota != FsStatus.Ok) return Fail(res, quota);

            bool sgidDir = (d.Mode & Permissions.SetGid) != 0;
            var n = new Attr
            {
                Inode = tx.NewInode(),
                Generation = MetaTxn.NewGeneration(),
                Type = type,
                Uid = attrs.Uid ?? cred.Uid,
                Gid = attrs.Gid ?? (sgidDir ? d.Gid : cred.Gid),
                Nlink = type == FileType.Directory ? 2u : 1u,
                Parent = type == FileType.Directory ? dir : 0,
                RdevMajor = major,
                RdevMinor = minor,
                Atime = attrs.AtimeHow == TimeHow.ClientTime ? attrs.Atime : now,
                Mtime = attrs.MtimeHow == TimeHow.ClientTime ? attrs.Mtime : now,
                Ctime = now,
            };
            uint m = type switch
            {
                FileType.Symlink => SymlinkMode,
                FileType.Directory => (attrs.Mode ?? DefaultDirMode) & Permissions.AllBits,
                _ => (attrs.Mode ?? DefaultFileMode) & Permissions.AllBits,
            };
            if (type == FileType.Directory && sgidDir) m |= Permissions.SetGid; // BSD group semantics propagate down
            if (type != FileType.Directory && !cred.IsRoot && !cred.InGroup(n.Gid)) m &= ~Permissions.SetGid;
            n.Mode = m;
            if (type == FileType.Regular) n.Size = attrs.Size ?? 0;
            if (type == FileType.Symlink) n.Size = (ulong)(targetValue!.Length - 1);

            tx.PutAttr(n);
            tx.AddEntry(dir, nameBytes, type, n.Inode);
            if (targetValue is not null) t.Set(Keys.Symlink(_vol, n.Inode), targetValue);
            if (mode == CreateMode.Exclusive) t.Set(Keys.Verifier(_vol, n.Inode), Codec.EncodeU64(verifier));
            tx.AddUsage(type == FileType.Regular ? (long)n.Size : 0, 1);

            if (type == FileType.Directory) d.Nlink++;
            d.Mtime = d.Ctime = now;
            tx.PutAttr(d);
            res.Dir = d;
            res.Obj = n;
            return res;
        });
    }

    /// <summary>
    /// LINK. A directory cannot be linked: Perm, as link(2) answers on Linux (RFC 1813 lists no IsDir for LINK, and
    /// the Linux client turns NFS3ERR_PERM back into the EPERM a local file system gives).
    /// </summary>
    public OpResult Link(Credential cred, ulong ino, ulong dir, string name)
    {
        var now = Timespec.Now();
        var nameBytes = MetaTxn.NameBytes(name);
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            if (!tx.TryGetAttr(ino, out var o)) return OpResult.Fail(FsStatus.Stale);
            res.Obj = o;
            if (!tx.TryGetAttr(dir, out var d)) return Fail(res, FsStatus.Stale);
            res.Dir = d;
            res.DirBefore = d.Wcc;
            if (d.Type != FileType.Directory) return Fail(res, FsStatus.NotDir);
            if (o.Type == FileType.Directory) return Fail(res, FsStatus.Perm);
            var st = Names.CheckNew(name);
            if (st != FsStatus.Ok) return Fail(res, st);
            if (!Permissions.Allows(cred, d, Permissions.Exec)) return Fail(res, FsStatus.Acces);
            if (tx.TryGetDentry(dir, nameBytes, out _, out _, out _)) return Fail(res, FsStatus.Exist);
            if (!Permissions.Allows(cred, d, Permissions.Write | Permissions.Exec)) return Fail(res, FsStatus.Acces);
            if (o.Nlink >= MaxLink) return Fail(res, FsStatus.MLink);

            o.Nlink++;
            o.Ctime = now;
            tx.PutAttr(o);
            tx.AddEntry(dir, nameBytes, o.Type, ino);
            d.Mtime = d.Ctime = now;
            tx.PutAttr(d);
            res.Obj = o;
            res.Dir = d;
            return res;
        });
    }
}
