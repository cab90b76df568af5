namespace NfsGate.Protocol;

/*
   Procedure 20: PATHCONF - Retrieve POSIX information

   PATHCONF3res NFSPROC3_PATHCONF(PATHCONF3args) = 20;

   struct PATHCONF3args {
        nfs_fh3   object;
   };

   struct PATHCONF3resok {
        post_op_attr obj_attributes;
        uint32       linkmax;
        uint32       name_max;
        bool         no_trunc;
        bool         chown_restricted;
        bool         case_insensitive;
        bool         case_preserving;
   };

   struct PATHCONF3resfail {
        post_op_attr obj_attributes;
   };

   union PATHCONF3res switch (nfsstat3 status) {
   case NFS3_OK:
        PATHCONF3resok   resok;
   default:
        PATHCONF3resfail resfail;
   };
*/
internal static class Nfs3PathConf
{
    /// <summary>65000: ext4's EXT4_LINK_MAX, what Linux users expect.</summary>
    public const uint LinkMax = 65000;

    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        var w = q.W;
        q.Status(NfsStat3.NFS3_OK);
        q.PostOp(q.Attr);
        w.WriteUInt32(LinkMax);
        w.WriteUInt32(Nfs3Const.NameMax);
        w.WriteBool(true);  // no_trunc: long names are refused, not truncated
        w.WriteBool(true);  // chown_restricted: only root changes owners
        w.WriteBool(false); // case_insensitive
        w.WriteBool(true);  // case_preserving
        return ValueTask.CompletedTask;
    }
}
