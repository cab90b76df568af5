namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    /// <summary>
    /// SETATTR with local-file-system rules: only root gives a file away (uid); the owner may change the group only to
    /// one of its groups; only the owner or root may chmod or set times to a client-chosen value, while anyone who may
    /// write may set times to "now" (utimes(NULL)); a size change needs write permission (owner override, as knfsd).
    /// chmod by a non-root caller outside the file's group clears setgid; a non-root chown or truncate clears
    /// setuid/setgid of non-directories. ctime is always set to now.
    /// </summary>
    public OpResult SetAttr(Credential cred, ulong ino, in SetAttrRequest req, Timespec? guardCtime)
    {
        var now = Timespec.Now();
        var r = req;
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            if (!tx.TryGetAttr(ino, out var a)) return OpResult.Fail(FsStatus.Stale);
            res.Obj = a;
            res.ObjBefore = a.Wcc;
            if (guardCtime is Timespec g && g != a.Ctime) return Fail(res, FsStatus.NotSync);
            bool owner = cred.IsRoot || cred.Uid == a.Uid;
            if (r.Size is ulong size)
            {
                if (a.Type == FileType.Directory) return Fail(res, FsStatus.IsDir);
                if (a.Type != FileType.Regular) return Fail(res, FsStatus.Inval);
                if (size > Layout.MaxFileSize) return Fail(res, FsStatus.FBig);
            }
            if (r.Uid is uint uid && uid != a.Uid && !cred.IsRoot) return Fail(res, FsStatus.Perm);
            if (r.Gid is uint gid && gid != a.Gid && !cred.IsRoot && (cred.Uid != a.Uid || !cred.InGroup(gid)))
                return Fail(res, FsStatus.Perm);
            if (r.Mode is not null && !owner) return Fail(res, FsStatus.Perm);
            bool clientTime = r.AtimeHow == TimeHow.ClientTime || r.MtimeHow == TimeHow.ClientTime;
            bool serverTime = r.AtimeHow == TimeHow.ServerTime || r.MtimeHow == TimeHow.ServerTime;
            if (clientTime && !owner) return Fail(res, FsStatus.Perm);
            if (serverTime && !owner && !Permissions.Allows(cred, a, Permissions.Write)) return Fail(res, FsStatus.Acces);
            if (r.Size is not null && !Permissions.AllowsWithOwnerOverride(cred, a, Permissions.Write))
                return Fail(res, FsStatus.Acces);

            const uint suidSgid = Permissions.SetUid | Permissions.SetGid;
            bool chown = (r.Uid is uint nu && nu != a.Uid) || (r.Gid is uint ng && ng != a.Gid);
            if (r.Uid is uint u2) a.Uid = u2;
            if (r.Gid is uint g2) a.Gid = g2;
            if (chown && !cred.IsRoot && a.Type != FileType.Directory) a.Mode &= ~suidSgid;
            if (r.Size is ulong s2)
            {
                tx.SetSize(ref a, s2, ChunkSize);
                if (!cred.IsRoot) a.Mode &= ~suidSgid;
            }
            if (r.Mode is uint m)
            {
                m &= Permissions.AllBits;
                if (!cred.IsRoot && !cred.InGroup(a.Gid)) m &= ~Permissions.SetGid;
                a.Mode = m;
            }
            if (r.AtimeHow == TimeHow.ServerTime) a.Atime = now;
            else if (r.AtimeHow == TimeHow.ClientTime) a.Atime = r.Atime;
            if (r.MtimeHow == TimeHow.ServerTime) a.Mtime = now;
            else if (r.MtimeHow == TimeHow.ClientTime) a.Mtime = r.Mtime;
            a.Ctime = now;
            tx.PutAttr(a);
            res.Obj = a;
            return res;
        });
    }
}
