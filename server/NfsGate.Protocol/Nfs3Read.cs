using System.Runtime.InteropServices;
using NfsGate.Metadata;

namespace NfsGate.Protocol;

/*
   Procedure 6: READ - Read From file

   READ3res NFSPROC3_READ(READ3args) = 6;

   struct READ3args {
        nfs_fh3  file;
        offset3  offset;
        count3   count;
   };

   struct READ3resok {
        post_op_attr   file_attributes;
        count3         count;
        bool           eof;
        opaque         data<>;
   };

   struct READ3resfail {
        post_op_attr   file_attributes;
   };

   union READ3res switch (nfsstat3 status) {
   case NFS3_OK:
        READ3resok   resok;
   default:
        READ3resfail resfail;
   };
*/
internal static class Nfs3Read
{
    public static async ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        ulong offset;
        uint count;
        {
            var r = q.Args();
            offset = r.ReadUInt64();
            count = r.ReadUInt32();
        }
        if (q.Attr.Type == FileType.Directory)
        {
            q.Status(NfsStat3.NFS3ERR_ISDIR);
            q.PostOp(q.Attr);
            return;
        }
        if (q.Attr.Type != FileType.Regular)
        {
            q.Status(NfsStat3.NFS3ERR_INVAL);
            q.PostOp(q.Attr);
            return;
        }
        // RFC 1813: the server may return less than asked; rtmax is what FSINFO promised.
        int n = (int)Math.Min(count, q.Options.MaxRead);

        // The data is read straight into the reply. Everything before it has a fixed size because attributes are
        // always sent (the handle's attributes if the read returns none), so the slot is reserved first, filled by
        // the store, and the header written over the reservation afterwards: one copy, store to reply.
        var w = q.W;
        int start = w.Length;
        w.WriteUInt32(0);                                  // status
        Nfs3Xdr.WriteZeros(w, Nfs3Xdr.PostOpAttrSize / 4); // post_op_attr with attributes
        w.WriteUInt32(0);                                  // count
        w.WriteUInt32(0);                                  // eof
        int lengthOffset = w.Length;
        w.GetOpaqueSpan(n);
        // Nothing else writes to this reply until the read completes, so the buffer cannot move meanwhile.
        var slot = MemoryMarshal.AsMemory(w.WrittenMemory).Slice(lengthOffset + 4, n);
        var rr = await q.Vol.ReadAsync(q.Cred, q.Ino, offset, slot, ct).ConfigureAwait(false);

        w.Truncate(start);
        q.Status(rr.Status);
        q.PostOp(rr.Attr ?? q.Attr);
        if (rr.Status != FsStatus.Ok) return;
        w.WriteUInt32((uint)rr.Count);
        w.WriteBool(rr.Eof);
        w.ShrinkOpaque(lengthOffset, rr.Count);
    }
}
