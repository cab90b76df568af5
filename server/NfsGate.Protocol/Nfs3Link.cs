using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 15: LINK - Create Link to an object

   LINK3res NFSPROC3_LINK(LINK3args) = 15;

   struct LINK3args {
        nfs_fh3     file;
        diropargs3  link;
   };

   struct LINK3resok {
        post_op_attr   file_attributes;
        wcc_data       linkdir_wcc;
   };

   struct LINK3resfail {
        post_op_attr   file_attributes;
        wcc_data       linkdir_wcc;
   };

   union LINK3res switch (nfsstat3 status) {
   case NFS3_OK:
        LINK3resok    resok;
   default:
        LINK3resfail  resfail;
   };
*/
internal static class Nfs3Link
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string name;
        NfsStat3 st, dst;
        ulong dir;
        {
            var r = q.Args();
            var raw = Nfs3Xdr.ReadHandle(ref r);
            st = Nfs3Xdr.ReadFileName(ref r, out name);
            dst = q.ResolveSecond(raw, out dir);
        }
        var first = dst != NfsStat3.NFS3_OK ? dst : st;
        if (first != NfsStat3.NFS3_OK)
        {
            q.Status(first);
            q.PostOp(q.Attr);
            q.Wcc(null, null);
            return ValueTask.CompletedTask;
        }
        // Hard links to directories would make the tree a graph (RFC 1813 lets the server refuse).
        if (q.Attr.Type == FileType.Directory)
        {
            q.Status(NfsStat3.NFS3ERR_ISDIR);
            q.PostOp(q.Attr);
            q.Wcc(null, null);
            return ValueTask.CompletedTask;
        }
        var res = q.Vol.Link(q.Cred, q.Ino, dir, name);
        q.Status(res.Status);
        q.PostOp(res.Obj ?? q.Attr);
        q.Wcc(res.DirBefore, res.Dir);
        return ValueTask.CompletedTask;
    }
}
