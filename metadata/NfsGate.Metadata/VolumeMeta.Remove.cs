namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    /// <summary>REMOVE of a non-directory: IsDir for a directory (use RMDIR).</summary>
    public OpResult Remove(Credential cred, ulong dir, string name) => RemoveEntry(cred, dir, name, isRmdir: false);

    /// <summary>RMDIR: NotDir for a non-directory, NotEmpty while it has entries.</summary>
    public OpResult Rmdir(Credential cred, ulong dir, string name) => RemoveEntry(cred, dir, name, isRmdir: true);

    private OpResult RemoveEntry(Credential cred, ulong dir, string name, bool isRmdir)
    {
        var now = Timespec.Now();
        var nameBytes = MetaTxn.NameBytes(name);
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            if (!tx.TryGetAttr(dir, out var d)) return OpResult.Fail(FsStatus.Stale);
            res.Dir = d;
            res.DirBefore = d.Wcc;
            if (d.Type != FileType.Directory) return Fail(res, FsStatus.NotDir);
            var st = Names.CheckExisting(name);
            if (st != FsStatus.Ok) return Fail(res, st);
            if (!Permissions.Allows(cred, d, Permissions.Exec)) return Fail(res, FsStatus.Acces);
            if (!tx.TryGetDentry(dir, nameBytes, out _, out var ino, out var seq)) return Fail(res, FsStatus.NoEnt);
            if (!tx.TryGetAttr(ino, out var o)) return Fail(res, FsStatus.NoEnt);
            if (isRmdir && o.Type != FileType.Directory) return Fail(res, FsStatus.NotDir);
            if (!isRmdir && o.Type == FileType.Directory) return Fail(res, FsStatus.IsDir);
            if (!Permissions.Allows(cred, d, Permissions.Write | Permissions.Exec)) return Fail(res, FsStatus.Acces);
            if (!Permissions.StickyAllows(cred, d, o)) return Fail(res, FsStatus.Perm); // EPERM, as may_delete() in Linux
            if (isRmdir && !tx.DirIsEmpty(ino)) return Fail(res, FsStatus.NotEmpty);

            tx.RemoveEntry(dir, nameBytes, seq);
            if (!isRmdir && o.Nlink <= 1 && TrashOn(t, _vol)) MoveToTrash(tx, ref o, dir, name); // VolumeMeta.Trash.cs
            else if (tx.Unlink(ref o)) res.FreedInode = ino;
            res.QueuedDeletes = tx.Queued > 0;
            if (isRmdir) d.Nlink--;
            d.Mtime = d.Ctime = now;
            tx.PutAttr(d);
            res.Dir = d;
            return res;
        });
    }
}
