using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// Encoders and decoders for the RFC 1813 types shared by several procedures (section 2.5 and 2.6):
/// fattr3, post_op_attr, pre_op_attr, wcc_data, sattr3, nfstime3, filename3, nfspath3, nfs_fh3.
/// </summary>
public static class Nfs3Xdr
{
    /// <summary>Size of fattr3 on the wire: 5 uint32 + size + used + specdata3 + fsid + fileid + 3 nfstime3.</summary>
    public const int Fattr3Size = 5 * 4 + 8 + 8 + 8 + 8 + 8 + 3 * 8;
    /// <summary>post_op_attr carrying attributes: the bool plus fattr3.</summary>
    public const int PostOpAttrSize = 4 + Fattr3Size;
    /// <summary>"used" is reported in whole 4 KiB blocks, what a local file system with 4 KiB blocks would say.</summary>
    public const ulong UsedUnit = 4096;

    /*
      struct fattr3 {
         ftype3     type;
         mode3      mode;
         uint32     nlink;
         uid3       uid;
         gid3       gid;
         size3      size;
         size3      used;
         specdata3  rdev;
         uint64     fsid;
         fileid3    fileid;
         nfstime3   atime;
         nfstime3   mtime;
         nfstime3   ctime;
      };
    */
    public static void WriteFattr3(XdrWriter w, in Attr a, uint fsid)
    {
        w.WriteUInt32((uint)a.Type);
        w.WriteUInt32(a.Mode & 0xFFF);
        w.WriteUInt32(a.Nlink);
        w.WriteUInt32(a.Uid);
        w.WriteUInt32(a.Gid);
        w.WriteUInt64(a.Size);
        w.WriteUInt64(Used(a.Size));
        bool dev = a.Type is FileType.CharDevice or FileType.BlockDevice;
        w.WriteUInt32(dev ? a.RdevMajor : 0);
        w.WriteUInt32(dev ? a.RdevMinor : 0);
        w.WriteUInt64(fsid);
        w.WriteUInt64(a.Inode);
        WriteNfsTime(w, a.Atime);
        WriteNfsTime(w, a.Mtime);
        WriteNfsTime(w, a.Ctime);
    }

    /// <summary>Bytes allocated: the size rounded up to 4 KiB (holes are not tracked separately, so this is an upper bound).</summary>
    public static ulong Used(ulong size) => size > ulong.MaxValue - (UsedUnit - 1) ? size : (size + UsedUnit - 1) / UsedUnit * UsedUnit;

    /// <summary>nfstime3 carries uint32 seconds: times before 1970 or after 2106 are clamped, not wrapped.</summary>
    public static void WriteNfsTime(XdrWriter w, Timespec t)
    {
        uint secs = t.Seconds < 0 ? 0 : t.Seconds > uint.MaxValue ? uint.MaxValue : (uint)t.Seconds;
        w.WriteUInt32(secs);
        w.WriteUInt32(t.Nanos);
    }

    public static Timespec ReadNfsTime(ref XdrReader r)
    {
        uint secs = r.ReadUInt32();
        uint nanos = r.ReadUInt32();
        // A nanosecond count of a second or more is malformed; clamp rather than store an impossible time.
        return new Timespec(secs, Math.Min(nanos, 999_999_999u));
    }

    /*
      union post_op_attr switch (bool attributes_follow) {
      case TRUE:
         fattr3   attributes;
      case FALSE:
         void;
      };
    */
    public static void WritePostOpAttr(XdrWriter w, Attr? a, uint fsid)
    {
        if (a is { } v)
        {
            w.WriteBool(true);
            WriteFattr3(w, v, fsid);
        }
        else
        {
            w.WriteBool(false);
        }
    }

    /*
      struct wcc_attr {
         size3       size;
         nfstime3    mtime;
         nfstime3    ctime;
      };
      union pre_op_attr switch (bool attributes_follow) {
      case TRUE:
         wcc_attr  attributes;
      case FALSE:
         void;
      };
    */
    public static void WritePreOpAttr(XdrWriter w, WccAttr? a)
    {
        if (a is { } v)
        {
            w.WriteBool(true);
            w.WriteUInt64(v.Size);
            WriteNfsTime(w, v.Mtime);
            WriteNfsTime(w, v.Ctime);
        }
        else
        {
            w.WriteBool(false);
        }
    }

    /*
      struct wcc_data {
         pre_op_attr    before;
         post_op_attr   after;
      };
    */
    public static void WriteWcc(XdrWriter w, WccAttr? before, Attr? after, uint fsid)
    {
        WritePreOpAttr(w, before);
        WritePostOpAttr(w, after, fsid);
    }

    /*
      union set_mode3 switch (bool set_it) { case TRUE: mode3 mode; default: void; };
      union set_uid3 switch (bool set_it) { case TRUE: uid3 uid; default: void; };
      union set_gid3 switch (bool set_it) { case TRUE: gid3 gid; default: void; };
      union set_size3 switch (bool set_it) { case TRUE: size3 size; default: void; };
      union set_atime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 atime; default: void; };
      union set_mtime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 mtime; default: void; };

      struct sattr3 {
         set_mode3   mode;
         set_uid3    uid;
         set_gid3    gid;
         set_size3   size;
         set_atime   atime;
         set_mtime   mtime;
      };
    */
    public static SetAttrRequest ReadSattr3(ref XdrReader r)
    {
        var s = new SetAttrRequest();
        if (r.ReadBool()) s.Mode = r.ReadUInt32() & 0xFFF;
        if (r.ReadBool()) s.Uid = r.ReadUInt32();
        if (r.ReadBool()) s.Gid = r.ReadUInt32();
        if (r.ReadBool()) s.Size = r.ReadUInt64();
        s.AtimeHow = ReadTimeHow(ref r);
        if (s.AtimeHow == TimeHow.ClientTime) s.Atime = ReadNfsTime(ref r);
        s.MtimeHow = ReadTimeHow(ref r);
        if (s.MtimeHow == TimeHow.ClientTime) s.Mtime = ReadNfsTime(ref r);
        return s;
    }

    private static TimeHow ReadTimeHow(ref XdrReader r)
    {
        uint v = r.ReadEnum();
        if (v > (uint)TimeHow3.SET_TO_CLIENT_TIME) throw new XdrException($"time_how out of range: {v}");
        return (TimeHow)v;
    }

    /// <summary>nfs_fh3: opaque data&lt;NFS3_FHSIZE&gt;. A longer handle is not an NFSv3 handle at all: GARBAGE_ARGS.</summary>
    public static ReadOnlySpan<byte> ReadHandle(ref XdrReader r) => r.ReadOpaque(Nfs3Const.NFS3_FHSIZE);

    /// <summary>
    /// filename3 (string&lt;&gt;). Read with a generous cap so an over-long name is NAMETOOLONG, not GARBAGE_ARGS.
    /// An empty name or one containing '/' or NUL can never name a directory entry: INVAL.
    /// </summary>
    public static NfsStat3 ReadFileName(ref XdrReader r, out string name)
    {
        var bytes = r.ReadOpaque(Nfs3Const.NameReadCap);
        name = "";
        var st = CheckFileName(bytes);
        if (st != NfsStat3.NFS3_OK) return st;
        name = System.Text.Encoding.UTF8.GetString(bytes);
        return NfsStat3.NFS3_OK;
    }

    /// <summary>filename3 as raw bytes (LOOKUP's allocation-free path): at most NameMax, not empty, no '/' or NUL.</summary>
    public static NfsStat3 CheckFileName(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > Nfs3Const.NameMax) return NfsStat3.NFS3ERR_NAMETOOLONG;
        if (bytes.Length == 0 || bytes.IndexOfAny((byte)'/', (byte)0) >= 0) return NfsStat3.NFS3ERR_INVAL;
        return NfsStat3.NFS3_OK;
    }

    /// <summary>nfspath3 (string&lt;&gt;): a symlink target, at most PATH_MAX bytes.</summary>
    public static NfsStat3 ReadPath(ref XdrReader r, out string path)
    {
        var bytes = r.ReadOpaque(Nfs3Const.PathMax * 4);
        path = "";
        if (bytes.Length > Nfs3Const.PathMax) return NfsStat3.NFS3ERR_NAMETOOLONG;
        if (bytes.Length == 0 || bytes.IndexOf((byte)0) >= 0) return NfsStat3.NFS3ERR_INVAL;
        path = System.Text.Encoding.UTF8.GetString(bytes);
        return NfsStat3.NFS3_OK;
    }

    /// <summary>Writes <paramref name="words"/> zero uint32s: a resfail body whose attributes all "do not follow".</summary>
    public static void WriteZeros(XdrWriter w, int words)
    {
        for (int i = 0; i < words; i++) w.WriteUInt32(0);
    }
}
