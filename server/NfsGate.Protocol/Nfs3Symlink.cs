using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 10: SYMLINK - Create a symbolic link

   SYMLINK3res NFSPROC3_SYMLINK(SYMLINK3args) = 10;

   struct symlinkdata3 {
        sattr3    symlink_attributes;
        nfspath3  symlink_data;
   };

   struct SYMLINK3args {
        diropargs3    where;
        symlinkdata3  symlink;
   };

   struct SYMLINK3resok {
        post_op_fh3   obj;
        post_op_attr  obj_attributes;
        wcc_data      dir_wcc;
   };

   struct SYMLINK3resfail {
        wcc_data      dir_wcc;
   };

   union SYMLINK3res switch (nfsstat3 status) {
   case NFS3_OK:
        SYMLINK3resok   resok;
   default:
        SYMLINK3resfail resfail;
   };
*/
internal static class Nfs3Symlink
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string name, target;
        NfsStat3 st, pst;
        SetAttrRequest attrs;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out name);
            attrs = Nfs3Xdr.ReadSattr3(ref r);
            pst = Nfs3Xdr.ReadPath(ref r, out target);
        }
        if (st != NfsStat3.NFS3_OK) return Nfs3Create.NameFailed(q, st);
        if (pst != NfsStat3.NFS3_OK) return Nfs3Create.NameFailed(q, pst);
        Nfs3Create.Done(q, q.Vol.Symlink(q.Cred, q.Ino, name, target, attrs));
        return ValueTask.CompletedTask;
    }
}
