namespace NfsGate.Protocol;

/*
   Procedure 13: RMDIR - Remove a Directory

   RMDIR3res NFSPROC3_RMDIR(RMDIR3args) = 13;

   struct RMDIR3args {
        diropargs3  object;
   };

   struct RMDIR3resok {
        wcc_data    dir_wcc;
   };

   struct RMDIR3resfail {
        wcc_data    dir_wcc;
   };

   union RMDIR3res switch (nfsstat3 status) {
   case NFS3_OK:
        RMDIR3resok   resok;
   default:
        RMDIR3resfail resfail;
   };
*/
internal static class Nfs3Rmdir
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct) => Nfs3Remove.RemoveName(q, directory: true);
}
