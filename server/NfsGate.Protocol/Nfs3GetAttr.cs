namespace NfsGate.Protocol;

/*
   Procedure 1: GETATTR - Get file attributes

   GETATTR3res NFSPROC3_GETATTR(GETATTR3args) = 1;

   struct GETATTR3args {
        nfs_fh3  object;
   };

   struct GETATTR3resok {
        fattr3   obj_attributes;
   };

   union GETATTR3res switch (nfsstat3 status) {
   case NFS3_OK:
        GETATTR3resok  resok;
   default:
        void;
   };
*/
internal static class Nfs3GetAttr
{
    // The dispatcher already read the attributes while checking the handle; no permission is needed to see them.
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        q.Status(NfsStat3.NFS3_OK);
        Nfs3Xdr.WriteFattr3(q.W, q.Attr, q.Fsid);
        return ValueTask.CompletedTask;
    }
}
