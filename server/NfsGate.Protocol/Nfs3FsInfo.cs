namespace NfsGate.Protocol;

/*
   Procedure 19: FSINFO - Get static file system Information

   FSINFO3res NFSPROC3_FSINFO(FSINFO3args) = 19;

   const FSF3_LINK        = 0x0001;
   const FSF3_SYMLINK     = 0x0002;
   const FSF3_HOMOGENEOUS = 0x0008;
   const FSF3_CANSETTIME  = 0x0010;

   struct FSINFO3args {
        nfs_fh3   fsroot;
   };

   struct FSINFO3resok {
        post_op_attr obj_attributes;
        uint32       rtmax;
        uint32       rtpref;
        uint32       rtmult;
        uint32       wtmax;
        uint32       wtpref;
        uint32       wtmult;
        uint32       dtpref;
        size3        maxfilesize;
        nfstime3     time_delta;
        uint32       properties;
   };

   struct FSINFO3resfail {
        post_op_attr obj_attributes;
   };

   union FSINFO3res switch (nfsstat3 status) {
   case NFS3_OK:
        FSINFO3resok   resok;
   default:
        FSINFO3resfail resfail;
   };
*/
internal static class Nfs3FsInfo
{
    public const FsProperties3 Properties =
        FsProperties3.FSF3_LINK | FsProperties3.FSF3_SYMLINK | FsProperties3.FSF3_HOMOGENEOUS | FsProperties3.FSF3_CANSETTIME;

    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        var o = q.Options;
        var w = q.W;
        q.Status(NfsStat3.NFS3_OK);
        q.PostOp(q.Attr);
        w.WriteUInt32(o.MaxRead);
        w.WriteUInt32(o.PrefRead);
        w.WriteUInt32(o.Multiple);
        w.WriteUInt32(o.MaxWrite);
        w.WriteUInt32(o.PrefWrite);
        w.WriteUInt32(o.Multiple);
        w.WriteUInt32(o.DirPref);
        w.WriteUInt64(o.MaxFileSize);
        // time_delta 1 ns: times are stored with nanosecond precision.
        w.WriteUInt32(0);
        w.WriteUInt32(1);
        w.WriteUInt32((uint)Properties);
        return ValueTask.CompletedTask;
    }
}
