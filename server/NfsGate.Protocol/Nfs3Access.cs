using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 4: ACCESS - Check Access Permission

   ACCESS3res NFSPROC3_ACCESS(ACCESS3args) = 4;

   const ACCESS3_READ    = 0x0001;
   const ACCESS3_LOOKUP  = 0x0002;
   const ACCESS3_MODIFY  = 0x0004;
   const ACCESS3_EXTEND  = 0x0008;
   const ACCESS3_DELETE  = 0x0010;
   const ACCESS3_EXECUTE = 0x0020;

   struct ACCESS3args {
        nfs_fh3  object;
        uint32   access;
   };

   struct ACCESS3resok {
        post_op_attr   obj_attributes;
        uint32         access;
   };

   struct ACCESS3resfail {
        post_op_attr   obj_attributes;
   };

   union ACCESS3res switch (nfsstat3 status) {
   case NFS3_OK:
        ACCESS3resok   resok;
   default:
        ACCESS3resfail resfail;
   };
*/
internal static class Nfs3Access
{
    private const uint AllBits = 0x3F;

    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        uint requested;
        {
            var r = q.Args();
            requested = r.ReadUInt32();
        }
        var st = q.Vol.Access(q.Cred, q.Ino, (AccessMask)(requested & AllBits), out var granted, out var attr);
        q.Status(st);
        q.PostOp(st == FsStatus.Ok ? attr : q.Attr);
        // On a read-only export nothing may be changed whatever the mode bits say.
        if (q.Export.ReadOnly) granted &= ~(AccessMask.Modify | AccessMask.Extend | AccessMask.Delete);
        if (st == FsStatus.Ok) q.W.WriteUInt32((uint)granted & requested);
        return ValueTask.CompletedTask;
    }
}
