using System.Text;
using System.Text.Unicode;
using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 3: LOOKUP -  Lookup filename

   LOOKUP3res NFSPROC3_LOOKUP(LOOKUP3args) = 3;

   struct LOOKUP3args {
        diropargs3  what;
   };

   struct LOOKUP3resok {
        nfs_fh3      object;
        post_op_attr obj_attributes;
        post_op_attr dir_attributes;
   };

   struct LOOKUP3resfail {
        post_op_attr dir_attributes;
   };

   union LOOKUP3res switch (nfsstat3 status) {
   case NFS3_OK:
        LOOKUP3resok    resok;
   default:
        LOOKUP3resfail  resfail;
   };
*/
internal static class Nfs3Lookup
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        LookupResult res;
        {
            var r = q.Args();
            var name = r.ReadOpaque(Nfs3Const.NameReadCap);
            var st = Nfs3Xdr.CheckFileName(name);
            if (st != NfsStat3.NFS3_OK)
            {
                q.Status(st);
                q.PostOp(q.Attr);
                return ValueTask.CompletedTask;
            }
            // The name's bytes go to the metadata as they are (no string); a name that is not valid UTF-8 takes the
            // string path, which maps it to U+FFFD the same way CREATE stored it.
            res = Utf8.IsValid(name) ? q.Vol.LookupUtf8(q.Cred, q.Ino, name) : ToResult(q.Vol.Lookup(q.Cred, q.Ino, Encoding.UTF8.GetString(name)));
        }
        if (res.Status != FsStatus.Ok || res.Obj is not { } obj)
        {
            q.Status(res.Status == FsStatus.Ok ? FsStatus.ServerFault : res.Status);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }
        q.Status(NfsStat3.NFS3_OK);
        q.Program.WriteHandle(q.W, q.Fsid, obj);
        q.PostOp(obj);
        q.PostOp(res.Dir);
        return ValueTask.CompletedTask;
    }

    private static LookupResult ToResult(OpResult r) => new() { Status = r.Status, Obj = r.Obj, Dir = r.Dir };
}
