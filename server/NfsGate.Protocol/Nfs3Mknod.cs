using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 11: MKNOD - Create a special device

   MKNOD3res NFSPROC3_MKNOD(MKNOD3args) = 11;

   struct devicedata3 {
        sattr3     dev_attributes;
        specdata3  spec;
   };

   union mknoddata3 switch (ftype3 type) {
   case NF3CHR:
   case NF3BLK:
        devicedata3  device;
   case NF3SOCK:
   case NF3FIFO:
        sattr3       pipe_attributes;
   default:
        void;
   };

   struct MKNOD3args {
        diropargs3   where;
        mknoddata3   what;
   };

   struct MKNOD3resok {
        post_op_fh3   obj;
        post_op_attr  obj_attributes;
        wcc_data      dir_wcc;
   };

   struct MKNOD3resfail {
        wcc_data      dir_wcc;
   };

   union MKNOD3res switch (nfsstat3 status) {
   case NFS3_OK:
        MKNOD3resok   resok;
   default:
        MKNOD3resfail resfail;
   };
*/
internal static class Nfs3Mknod
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string name;
        NfsStat3 st;
        uint type;
        SetAttrRequest attrs = default;
        uint major = 0, minor = 0;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out name);
            type = r.ReadEnum();
            switch ((Ftype3)type)
            {
                case Ftype3.NF3CHR:
                case Ftype3.NF3BLK:
                    attrs = Nfs3Xdr.ReadSattr3(ref r);
                    major = r.ReadUInt32();
                    minor = r.ReadUInt32();
                    break;
                case Ftype3.NF3SOCK:
                case Ftype3.NF3FIFO:
                    attrs = Nfs3Xdr.ReadSattr3(ref r);
                    break;
            }
        }
        if (st != NfsStat3.NFS3_OK) return Nfs3Create.NameFailed(q, st);
        // Regular files, directories and symlinks have their own procedures (RFC 1813: NFS3ERR_BADTYPE).
        if ((Ftype3)type is not (Ftype3.NF3CHR or Ftype3.NF3BLK or Ftype3.NF3SOCK or Ftype3.NF3FIFO))
            return Nfs3Create.NameFailed(q, NfsStat3.NFS3ERR_BADTYPE);
        Nfs3Create.Done(q, q.Vol.Mknod(q.Cred, q.Ino, name, (FileType)type, attrs, major, minor));
        return ValueTask.CompletedTask;
    }
}
