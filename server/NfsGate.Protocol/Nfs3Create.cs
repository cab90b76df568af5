using System.Buffers.Binary;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   Procedure 8: CREATE - Create a file

   CREATE3res NFSPROC3_CREATE(CREATE3args) = 8;

   enum createmode3 {
        UNCHECKED = 0,
        GUARDED   = 1,
        EXCLUSIVE = 2
   };

   union createhow3 switch (createmode3 mode) {
   case UNCHECKED:
   case GUARDED:
        sattr3       obj_attributes;
   case EXCLUSIVE:
        createverf3  verf;
   };

   struct CREATE3args {
        diropargs3   where;
        createhow3   how;
   };

   struct CREATE3resok {
        post_op_fh3   obj;
        post_op_attr  obj_attributes;
        wcc_data      dir_wcc;
   };

   struct CREATE3resfail {
        wcc_data      dir_wcc;
   };

   union CREATE3res switch (nfsstat3 status) {
   case NFS3_OK:
        CREATE3resok    resok;
   default:
        CREATE3resfail  resfail;
   };
*/
internal static class Nfs3Create
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        string name;
        NfsStat3 st;
        CreateMode mode;
        SetAttrRequest attrs = default;
        ulong verifier = 0;
        {
            var r = q.Args();
            st = Nfs3Xdr.ReadFileName(ref r, out name);
            uint how = r.ReadEnum();
            if (how > (uint)CreateMode3.EXCLUSIVE) throw new XdrException($"createmode3 out of range: {how}");
            mode = (CreateMode)how;
            if (mode == CreateMode.Exclusive) verifier = BinaryPrimitives.ReadUInt64BigEndian(r.ReadFixedOpaque(Nfs3Const.NFS3_CREATEVERFSIZE));
            else attrs = Nfs3Xdr.ReadSattr3(ref r);
        }
        if (st != NfsStat3.NFS3_OK) return NameFailed(q, st);
        Done(q, q.Vol.Create(q.Cred, q.Ino, name, mode, attrs, verifier));
        return ValueTask.CompletedTask;
    }

    /// <summary>The reply shared by CREATE, MKDIR, SYMLINK and MKNOD: handle, attributes, directory wcc.</summary>
    internal static void Done(Nfs3Request q, OpResult res)
    {
        if (res.Status == FsStatus.Ok && res.Obj is { } obj)
        {
            q.Status(NfsStat3.NFS3_OK);
            q.PostOpFh(obj);
            q.PostOp(obj);
            q.Wcc(res.DirBefore, res.Dir);
        }
        else
        {
            q.Status(res.Status == FsStatus.Ok ? FsStatus.ServerFault : res.Status);
            q.Wcc(res.DirBefore, res.Dir ?? q.Attr);
        }
    }

    /// <summary>A bad name: nothing was done, the directory's attributes are still current.</summary>
    internal static ValueTask NameFailed(Nfs3Request q, NfsStat3 st)
    {
        q.Status(st);
        q.Wcc(null, q.Attr);
        return ValueTask.CompletedTask;
    }
}
