using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 14: RENAME - Rename a File or Directory

   RENAME3res NFSPROC3_RENAME(RENAME3args) = 14;

   struct RENAME3args {
        diropargs3   from;
        diropargs3   to;
   };

   struct RENAME3resok {
        wcc_data     fromdir_wcc;
        wcc_data     todir_wcc;
   };

   struct RENAME3resfail {
        wcc_data     fromdir_wcc;
        wcc_data     todir_wcc;
   };

   union RENAME3res switch (nfsstat3 status) {
   case NFS3_OK:
       RENAME3resok   resok;
   default:
       RENAME3resfail resfail;
   };
*/
internal static class Nfs3Rename
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string from, to;
        NfsStat3 st, st2, tst;
        ulong toDir;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out from);
            var raw = Nfs3Xdr.ReadHandle(ref r);
            st2 = Nfs3Xdr.ReadFileName(ref r, out to);
            tst = q.ResolveSecond(raw, out toDir);
        }
        var first = tst != NfsStat3.NFS3_OK ? tst : st != NfsStat3.NFS3_OK ? st : st2;
        if (first != NfsStat3.NFS3_OK)
        {
            q.Status(first);
            q.Wcc(null, q.Attr);
            q.Wcc(null, null);
            return ValueTask.CompletedTask;
        }
        var res = q.Vol.Rename(q.Cred, q.Ino, from, toDir, to);
        bool ok = res.Status == FsStatus.Ok;
        q.Status(res.Status);
        q.Wcc(res.DirBefore, res.Dir ?? (ok ? null : q.Attr));
        q.Wcc(res.Dir2Before, res.Dir2);
        return ValueTask.CompletedTask;
    }
}
