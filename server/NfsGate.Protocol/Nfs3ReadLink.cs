using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 5: READLINK - Read from symbolic link

   READLINK3res NFSPROC3_READLINK(READLINK3args) = 5;

   struct READLINK3args {
        nfs_fh3  symlink;
   };

   struct READLINK3resok {
        post_op_attr   symlink_attributes;
        nfspath3       data;
   };

   struct READLINK3resfail {
        post_op_attr   symlink_attributes;
   };

   union READLINK3res switch (nfsstat3 status) {
   case NFS3_OK:
        READLINK3resok   resok;
   default:
        READLINK3resfail resfail;
   };
*/
internal static class Nfs3ReadLink
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        // RFC 1813: READLINK on something that is not a symbolic link is NFS3ERR_INVAL.
        if (q.Attr.Type != FileType.Symlink)
        {
            q.Status(NfsStat3.NFS3ERR_INVAL);
            q.PostOp(q.Attr);
            return ValueTask.CompletedTask;
        }
        var st = q.Vol.ReadLink(q.Cred, q.Ino, out var target, out var attr);
        q.Status(st);
        q.PostOp(st == FsStatus.Ok ? attr : q.Attr);
        if (st == FsStatus.Ok) q.W.WriteString(target);
        return ValueTask.CompletedTask;
    }
}
