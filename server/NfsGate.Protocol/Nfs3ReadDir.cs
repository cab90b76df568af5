using System.Buffers.Binary;
using System.Text;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   Procedure 16: READDIR - Read From Directory

   READDIR3res NFSPROC3_READDIR(READDIR3args) = 16;

   struct READDIR3args {
        nfs_fh3      dir;
        cookie3      cookie;
        cookieverf3  cookieverf;
        count3       count;
   };

   struct entry3 {
        fileid3      fileid;
        filename3    name;
        cookie3      cookie;
        entry3       *nextentry;
   };

   struct dirlist3 {
        entry3       *entries;
        bool         eof;
   };

   struct READDIR3resok {
        post_op_attr dir_attributes;
        cookieverf3  cookieverf;
        dirlist3     reply;
   };

   struct READDIR3resfail {
        post_op_attr dir_attributes;
   };

   union READDIR3res switch (nfsstat3 status) {
   case NFS3_OK:
        READDIR3resok   resok;
   default:
        READDIR3resfail resfail;
   };
*/
internal static class Nfs3ReadDir
{
    /// <summary>
    /// Bytes of READDIR3res outside the entries, counted as if the attributes follow: status 4 + post_op_attr 88
    /// + cookieverf 8 + the list's final "no more entries" 4 + eof 4.
    /// </summary>
    internal const int FixedReplySize = 4 + Nfs3Xdr.PostOpAttrSize + 8 + 4 + 4;
    /// <summary>Entries asked of the namespace per call at most; bounds the work a huge count can cause.</summary>
    internal const int MaxEntriesPerCall = 4096;

    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        ulong cookie, verf;
        uint count;
        {
            var r = q.Args();
            cookie = r.ReadUInt64();
            verf = BinaryPrimitives.ReadUInt64BigEndian(r.ReadFixedOpaque(Nfs3Const.NFS3_COOKIEVERFSIZE));
            count = r.ReadUInt32();
        }
        if (q.Attr.Type != FileType.Directory)
        {
            q.Status(NfsStat3.NFS3ERR_NOTDIR);
            q.PostOp(q.Attr);
            return ValueTask.CompletedTask;
        }
        // The smallest entry3 is 28 bytes (a 1-byte name): never ask for more entries than could fit.
        int budget = (int)Math.Min(count, int.MaxValue);
        int want = Math.Clamp((budget - FixedReplySize) / 28 + 1, 1, MaxEntriesPerCall);
        var res = q.Vol.ReadDir(q.Cred, q.Ino, cookie, verf, want, withAttrs: false);
        if (res.Status != FsStatus.Ok)
        {
            q.Status(res.Status);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }

        int used = FixedReplySize;
        int fit = 0;
        foreach (var e in res.Entries)
        {
            int size = EntrySize(e.Name);
            if (used + size > budget) break;
            used += size;
            fit++;
        }
        if (fit == 0 && (res.Entries.Count > 0 || FixedReplySize > budget))
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
        }
        w.WriteBool(false);
        // eof only when the namespace said the listing ended and every entry it gave was sent.
        w.WriteBool(res.Eof && fit == res.Entries.Count);
        return ValueTask.CompletedTask;
    }

    /// <summary>entry3 on the wire: value_follows 4 + fileid 8 + name (4 + bytes + pad) + cookie 8.</summary>
    internal static int EntrySize(string name)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        return 4 + 8 + 4 + n + XdrReader.Pad(n) + 8;
    }
}
