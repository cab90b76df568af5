using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 21: COMMIT - Commit cached data on a server to stable storage

   COMMIT3res NFSPROC3_COMMIT(COMMIT3args) = 21;

   struct COMMIT3args {
        nfs_fh3    file;
        offset3    offset;
        count3     count;
   };

   struct COMMIT3resok {
        wcc_data   file_wcc;
        writeverf3 verf;
   };

   struct COMMIT3resfail {
        wcc_data   file_wcc;
   };

   union COMMIT3res switch (nfsstat3 status) {
   case NFS3_OK:
        COMMIT3resok   resok;
   default:
        COMMIT3resfail resfail;
   };
*/
internal static class Nfs3Commit
{
    public static async ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        {
            // offset and count are read for validity only: the whole file is committed, which RFC 1813 allows.
            var r = q.Args();
            r.ReadUInt64();
            r.ReadUInt32();
        }
        if (q.Attr.Type != FileType.Regular)
        {
            q.Status(q.Attr.Type == FileType.Directory ? NfsStat3.NFS3ERR_ISDIR : NfsStat3.NFS3ERR_INVAL);
            q.Wcc(null, q.Attr);
            return;
        }
        var res = await q.Vol.CommitAsync(q.Cred, q.Ino, ct).ConfigureAwait(false);
        q.Status(res.Status);
        q.Wcc(res.ObjBefore, res.Obj ?? q.Attr);
        if (res.Status == FsStatus.Ok) Nfs3Write.WriteVerifier(q);
    }
}
