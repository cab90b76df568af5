using System.Buffers.Binary;

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
        // READDIR has no dircount: only the whole reply's count limits it.
        return Nfs3DirList.Send(q, cookie, verf, maxcount: count, dircount: uint.MaxValue, plus: false);
    }
}
