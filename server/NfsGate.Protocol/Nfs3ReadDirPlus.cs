using System.Buffers.Binary;

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
        return Nfs3DirList.Send(q, cookie, verf, maxcount, dircount, plus: true);
    }
}
