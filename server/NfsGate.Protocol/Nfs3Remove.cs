using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 12: REMOVE - Remove a File

   REMOVE3res NFSPROC3_REMOVE(REMOVE3args) = 12;

   struct REMOVE3args {
        diropargs3  object;
   };

   struct REMOVE3resok {
        wcc_data    dir_wcc;
   };

   struct REMOVE3resfail {
        wcc_data    dir_wcc;
   };

   union REMOVE3res switch (nfsstat3 status) {
   case NFS3_OK:
        REMOVE3resok   resok;
   default:
        REMOVE3resfail resfail;
   };
*/
internal static class Nfs3Remove
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct) => RemoveName(q, directory: false);

    /// <summary>
    /// REMOVE and RMDIR differ only in the namespace call: the same arguments (diropargs3), the same name checks and
    /// the same reply (the directory's wcc data, on success and failure alike), so both run this.
    /// </summary>
    internal static ValueTask RemoveName(Nfs3Request q, bool directory)
    {
        string name;
        NfsStat3 st;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out name);
        }
        if (st != NfsStat3.NFS3_OK) return Nfs3Create.NameFailed(q, st);
        var res = directory ? q.Vol.Rmdir(q.Cred, q.Ino, name) : q.Vol.Remove(q.Cred, q.Ino, name);
        q.Status(res.Status);
        q.Wcc(res.DirBefore, res.Dir ?? (res.Status == FsStatus.Ok ? null : q.Attr));
        return ValueTask.CompletedTask;
    }
}
