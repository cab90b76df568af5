using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 2: SETATTR - Set file attributes

   SETATTR3res NFSPROC3_SETATTR(SETATTR3args) = 2;

   union sattrguard3 switch (bool check) {
   case TRUE:
      nfstime3  obj_ctime;
   case FALSE:
      void;
   };

   struct SETATTR3args {
      nfs_fh3      object;
      sattr3       new_attributes;
      sattrguard3  guard;
   };

   struct SETATTR3resok {
      wcc_data  obj_wcc;
   };

   struct SETATTR3resfail {
      wcc_data  obj_wcc;
   };

   union SETATTR3res switch (nfsstat3 status) {
   case NFS3_OK:
      SETATTR3resok   resok;
   default:
      SETATTR3resfail resfail;
   };
*/
internal static class Nfs3SetAttr
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        SetAttrRequest s;
        Timespec? guard = null;
        {
            var r = q.Args();
            s = Nfs3Xdr.ReadSattr3(ref r);
            if (r.ReadBool()) guard = Nfs3Xdr.ReadNfsTime(ref r);
        }
        var res = q.Vol.SetAttr(q.Cred, q.Ino, s, guard);
        q.Status(res.Status);
        q.Wcc(res.ObjBefore, res.Obj ?? (res.Status == FsStatus.Ok ? null : q.Attr));
        return ValueTask.CompletedTask;
    }
}
