namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    /// <summary>
    /// RENAME, atomic. Over an existing target: file over file, directory over an EMPTY directory; file over
    /// directory → IsDir; directory over file → NotDir; non-empty target directory → NotEmpty. Source and target
    /// the same inode (hard links of each other, or the same name) → success, nothing changes (POSIX).
    /// A directory moved into its own subtree → Inval; "." or ".." on either side → Inval. Sticky directories:
    /// only the entry's owner, the directory's owner or root may move or replace an entry (Perm). Moving a
    /// directory to a new parent also needs write permission on it (its ".." changes), as in Linux.
    /// </summary>
    public OpResult Rename(Credential cred, ulong fromDir, string fromName, ulong toDir, string toName)
    {
        var now = Timespec.Now();
        var fromBytes = MetaTxn.NameBytes(fromName);
        var toBytes = MetaTxn.NameBytes(toName);
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            bool sameDir = fromDir == toDir;
            if (!tx.TryGetAttr(fromDir, out var fd)) return OpResult.Fail(FsStatus.Stale);
            res.Dir = fd;
            res.DirBefore = fd.Wcc;
            Attr td = fd;
            if (!sameDir && !tx.TryGetAttr(toDir, out td)) return Fail(res, FsStatus.Stale);
            res.Dir2 = td;
            res.Dir2Before = td.Wcc;
            if (fd.Type != FileType.Directory || td.Type != FileType.Directory) return Fail(res, FsStatus.NotDir);
            var st = Names.CheckExisting(fromName);
            if (st == FsStatus.Ok) st = Names.CheckExisting(toName);
            if (st != FsStatus.Ok) return Fail(res, st);
            if (!Permissions.Allows(cred, fd, Permissions.Exec) || !Permissions.Allows(cred, td, Permissions.Exec))
                return Fail(res, FsStatus.Acces);
            if (!tx.TryGetDentry(fromDir, fromBytes, out _, out var srcIno, out var srcSeq)) return Fail(res, FsStatus.NoEnt);
            if (!tx.TryGetAttr(srcIno, out var src)) return Fail(res, FsStatus.NoEnt);
            bool hasTarget = tx.TryGetDentry(toDir, toBytes, out _, out var dstIno, out var dstSeq);
            Attr dst = default;
            if (hasTarget && !tx.TryGetAttr(dstIno, out dst)) return Fail(res, FsStatus.NoEnt);
            if (hasTarget && dstIno == srcIno) return res; // the same file: POSIX says do nothing, successfully
            bool srcIsDir = src.Type == FileType.Directory;
            if (hasTarget)
            {
                bool dstIsDir = dst.Type == FileType.Directory;
                if (!srcIsDir && dstIsDir) return Fail(res, FsStatus.IsDir);
                if (srcIsDir && !dstIsDir) return Fail(res, FsStatus.NotDir);
            }
            if (!Permissions.Allows(cred, fd, Permissions.Write | Permissions.Exec) ||
                !Permissions.Allows(cred, td, Permissions.Write | Permissions.Exec))
                return Fail(res, FsStatus.Acces);
            if (!Permissions.StickyAllows(cred, fd, src)) return Fail(res, FsStatus.Perm);
            if (hasTarget && !Permissions.StickyAllows(cred, td, dst)) return Fail(res, FsStatus.Perm);
            bool moveDir = srcIsDir && !sameDir;
            if (moveDir)
            {
                if (!Permissions.Allows(cred, src, Permissions.Write)) return Fail(res, FsStatus.Acces);
                // Walk ".." from the target directory up to the root: meeting the source means a loop.
                ulong p = toDir;
                for (int depth = 0; ; depth++)
                {
                    if (p == srcIno) return Fail(res, FsStatus.Inval);
                    if (p == INamespace.RootInode || depth > 100_000) break;
                    if (!tx.TryGetAttr(p, out var pa)) break;
                    p = pa.Parent;
                }
                if (!hasTarget && td.Nlink >= MaxLink) return Fail(res, FsStatus.MLink);
            }
            if (hasTarget && dst.Type == FileType.Directory && !tx.DirIsEmpty(dstIno)) return Fail(res, FsStatus.NotEmpty);

            // Everything checked: now change.
            tx.RemoveEntry(fromDir, fromBytes, srcSeq);
            if (hasTarget)
            {
                tx.RemoveEntry(toDir, toBytes, dstSeq);
                // A file replaced by RENAME is as gone as a removed one (editors save this way): trash it the same.
                if (dst.Type != FileType.Directory && dst.Nlink <= 1 && TrashOn(t, _vol)) MoveToTrash(tx, ref dst, toDir, toName);
                else if (tx.Unlink(ref dst)) res.FreedInode = dstIno;
                res.QueuedDeletes = tx.Queued > 0;
                if (dst.Type == FileType.Directory) td.Nlink--;
            }
            tx.AddEntry(toDir, toBytes, src.Type, srcIno);
            if (moveDir)
            {
                src.Parent = toDir;
                fd.Nlink--;
                td.Nlink++;
            }
            src.Ctime = now;
            tx.PutAttr(src);
            return Commit(tx, res, fd, td, sameDir, now);
        });
    }

    private static OpResult Commit(MetaTxn tx, OpResult res, Attr fd, Attr td, bool sameDir, Timespec now)
    {
        fd.Mtime = fd.Ctime = now;
        td.Mtime = td.Ctime = now;
        if (sameDir)
        {
            // fd and td are copies of the same directory; only the target side can have changed nlink (a replaced
            // subdirectory), and moveDir is false, so td carries every change.
            tx.PutAttr(td);
            res.Dir = td;
            res.Dir2 = td;
            return res;
        }
        tx.PutAttr(fd);
        tx.PutAttr(td);
        res.Dir = fd;
        res.Dir2 = td;
        return res;
    }
}
