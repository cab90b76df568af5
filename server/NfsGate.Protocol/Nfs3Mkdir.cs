using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 9: MKDIR - Create a directory

   MKDIR3res NFSPROC3_MKDIR(MKDIR3args) = 9;

   struct MKDIR3args {
        diropargs3   where;
        sattr3       attributes;
   };

   struct MKDIR3resok {
        post_op_fh3   obj;
        post_op_attr  obj_attributes;
        wcc_data      dir_wcc;
   };

   struct MKDIR3resfail {
        wcc_data      dir_wcc;
   };

   union MKDIR3res switch (nfsstat3 status) {
   case NFS3_OK:
        MKDIR3resok   resok;
   default:
        MKDIR3resfail resfail;
   };
*/
internal static class Nfs3Mkdir
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string name;
        NfsStat3 st;
        SetAttrRequest attrs;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out name);
            attrs = Nfs3Xdr.ReadSattr3(ref r);
        }
        if (st != NfsStat3.NFS3_OK) return Nfs3Create.NameFailed(q, st);
        Nfs3Create.Done(q, q.Vol.Mkdir(q.Cred, q.Ino, name, attrs));
        return ValueTask.CompletedTask;
    }
}
