using System.Buffers.Binary;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   Procedure 7: WRITE - Write to file

   WRITE3res NFSPROC3_WRITE(WRITE3args) = 7;

   enum stable_how {
        UNSTABLE  = 0,
        DATA_SYNC = 1,
        FILE_SYNC = 2
   };

   struct WRITE3args {
        nfs_fh3     file;
        offset3     offset;
        count3      count;
        stable_how  stable;
        opaque      data<>;
   };

   struct WRITE3resok {
        wcc_data    file_wcc;
        count3      count;
        stable_how  committed;
        writeverf3  verf;
   };

   struct WRITE3resfail {
        wcc_data    file_wcc;
   };

   union WRITE3res switch (nfsstat3 status) {
   case NFS3_OK:
        WRITE3resok    resok;
   default:
        WRITE3resfail  resfail;
   };
*/
internal static class Nfs3Write
{
    public static async ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        ulong offset;
        uint count;
        uint stable;
        int dataStart, dataLength;
        {
            var r = q.Args();
            offset = r.ReadUInt64();
            count = r.ReadUInt32();
            stable = r.ReadEnum();
            if (stable > (uint)StableHow3.FILE_SYNC) throw new XdrException($"stable_how out of range: {stable}");
            // The record is already in memory, so the only cap that matters is the bytes present.
            var data = r.ReadOpaque(int.MaxValue);
            dataLength = data.Length;
            dataStart = q.ArgOffset + r.Position - XdrReader.Pad(dataLength) - dataLength;
        }

        NfsStat3 st = NfsStat3.NFS3_OK;
        if (q.Attr.Type == FileType.Directory) st = NfsStat3.NFS3ERR_ISDIR;
        else if (q.Attr.Type != FileType.Regular) st = NfsStat3.NFS3ERR_INVAL;
        // RFC 1813: count must equal the length of data; a mismatch is a broken client.
        else if (count != (uint)dataLength) st = NfsStat3.NFS3ERR_INVAL;
        if (st != NfsStat3.NFS3_OK)
        {
            q.Status(st);
            q.Wcc(null, q.Attr);
            return;
        }

        // The server may write less than asked (the client resends the rest); never more than wtmax.
        int n = (int)Math.Min(count, q.Options.MaxWrite);
        if (offset > q.Options.MaxFileSize || (ulong)n > q.Options.MaxFileSize - offset)
        {
            q.Status(NfsStat3.NFS3ERR_FBIG);
            q.Wcc(null, q.Attr);
            return;
        }
        var bytes = q.Call.Args.Slice(dataStart, n);
        var res = await q.Vol.WriteAsync(q.Cred, q.Ino, offset, bytes, (StableHow)stable, ct).ConfigureAwait(false);
        q.Status(res.Status);
        q.Wcc(res.Before, res.After ?? (res.Status == FsStatus.Ok ? null : q.Attr));
        if (res.Status != FsStatus.Ok) return;
        q.W.WriteUInt32(res.Count);
        q.W.WriteUInt32((uint)res.Committed);
        WriteVerifier(q);
    }

    internal static void WriteVerifier(Nfs3Request q)
    {
        Span<byte> verf = stackalloc byte[Nfs3Const.NFS3_WRITEVERFSIZE];
        BinaryPrimitives.WriteUInt64BigEndian(verf, q.Program.WriteVerifier);
        q.W.WriteFixedOpaque(verf);
    }
}
