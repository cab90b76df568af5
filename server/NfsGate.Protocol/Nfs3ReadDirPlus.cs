using System.Buffers.Binary;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   Procedure 17: READDIRPLUS - Extended read from directory

   READDIRPLUS3res NFSPROC3_READDIRPLUS(READDIRPLUS3args) = 17;

   struct READDIRPLUS3args {
        nfs_fh3      dir;
        cookie3      cookie;
        cookieverf3  cookieverf;
        count3       dircount;
        count3       maxcount;
   };

   struct entryplus3 {
        fileid3      fileid;
        filename3    name;
        cookie3      cookie;
        post_op_attr name_attributes;
        post_op_fh3  name_handle;
        entryplus3   *nextentry;
   };

   struct dirlistplus3 {
        entryplus3   *entries;
        bool         eof;
   };

   struct READDIRPLUS3resok {
        post_op_attr dir_attributes;
        cookieverf3  cookieverf;
        dirlistplus3 reply;
   };

   struct READDIRPLUS3resfail {
        post_op_attr dir_attributes;
   };

   union READDIRPLUS3res switch (nfsstat3 status) {
   case NFS3_OK:
        READDIRPLUS3resok   resok;
   default:
        READDIRPLUS3resfail resfail;
   };
*/
internal static class Nfs3ReadDirPlus
{
    /// <summary>post_op_fh3 with our handle: bool 4 + length 4 + 29 bytes + 3 pad.</summary>
    private const int PostOpFhSize = 4 + 4 + FileHandleCodec.Size + 3;

    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        ulong cookie, verf;
        uint dircount, maxcount;
        {
            var r = q.Args();
            cookie = r.ReadUInt64();
            verf = BinaryPrimitives.ReadUInt64BigEndian(r.ReadFixedOpaque(Nfs3Const.NFS3_COOKIEVERFSIZE));
            dircount = r.ReadUInt32();
            maxcount = r.ReadUInt32();
        }
        if (q.Attr.Type != FileType.Directory)
        {
            q.Status(NfsStat3.NFS3ERR_NOTDIR);
            q.PostOp(q.Attr);
            return ValueTask.CompletedTask;
        }
        int budget = (int)Math.Min(maxcount, int.MaxValue);
        long dirBudget = dircount;
        // The smallest entryplus3 with attributes and handle: 28 + 88 + 40 = 156 bytes.
        int want = Math.Clamp((budget - Nfs3ReadDir.FixedReplySize) / 156 + 1, 1, Nfs3ReadDir.MaxEntriesPerCall);
        var res = q.Vol.ReadDir(q.Cred, q.Ino, cookie, verf, want, withAttrs: true);
        if (res.Status != FsStatus.Ok)
        {
            q.Status(res.Status);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }

        int used = Nfs3ReadDir.FixedReplySize;
        long dirUsed = 0;
        int fit = 0;
        foreach (var e in res.Entries)
        {
            // dircount counts only the directory part (what READDIR would send), maxcount the whole reply.
            int dirSize = Nfs3ReadDir.EntrySize(e.Name);
            int size = dirSize + (e.Attr is null ? 8 : Nfs3Xdr.PostOpAttrSize + PostOpFhSize);
            if (used + size > budget) break;
            if (fit > 0 && dirUsed + dirSize > dirBudget) break;
            used += size;
            dirUsed += dirSize;
            fit++;
        }
        if (fit == 0 && (res.Entries.Count > 0 || Nfs3ReadDir.FixedReplySize > budget))
        {
            q.Status(NfsStat3.NFS3ERR_TOOSMALL);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }

        var w = q.W;
        q.Status(NfsStat3.NFS3_OK);
        q.PostOp(res.Dir ?? q.Attr);
        w.WriteUInt64(res.CookieVerifier);
        for (int i = 0; i < fit; i++)
        {
            var e = res.Entries[i];
            w.WriteBool(true);
            w.WriteUInt64(e.Inode);
            w.WriteString(e.Name);
            w.WriteUInt64(e.Cookie);
            q.PostOp(e.Attr);
            // Without attributes the generation is unknown, so no handle: the client falls back to LOOKUP.
            q.PostOpFh(e.Attr);
        }
        w.WriteBool(false);
        w.WriteBool(res.Eof && fit == res.Entries.Count);
        return ValueTask.CompletedTask;
    }
}
