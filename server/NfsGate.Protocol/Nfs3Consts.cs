namespace NfsGate.Protocol;

// RFC 1813 section 2.2 constants and 2.6 enums; wire names kept verbatim.

public static class Nfs3Const
{
    public const uint PROGRAM = 100003;
    public const uint VERSION = 3;
    /// <summary>NFS3_FHSIZE: the largest handle a client may send.</summary>
    public const int NFS3_FHSIZE = 64;
    public const int NFS3_COOKIEVERFSIZE = 8;
    public const int NFS3_CREATEVERFSIZE = 8;
    public const int NFS3_WRITEVERFSIZE = 8;
    /// <summary>The longest name we store (POSIX NAME_MAX, what PATHCONF announces).</summary>
    public const int NameMax = 255;
    /// <summary>
    /// Names are read with this larger cap and then checked against <see cref="NameMax"/>, so a long name
    /// gets NFS3ERR_NAMETOOLONG (what the client can show the user) instead of GARBAGE_ARGS.
    /// </summary>
    public const int NameReadCap = 4096;
    /// <summary>Symlink targets (nfspath3): PATH_MAX.</summary>
    public const int PathMax = 4096;
}

/// <summary>nfsstat3.</summary>
public enum NfsStat3 : uint
{
    NFS3_OK = 0,
    NFS3ERR_PERM = 1,
    NFS3ERR_NOENT = 2,
    NFS3ERR_IO = 5,
    NFS3ERR_NXIO = 6,
    NFS3ERR_ACCES = 13,
    NFS3ERR_EXIST = 17,
    NFS3ERR_XDEV = 18,
    NFS3ERR_NODEV = 19,
    NFS3ERR_NOTDIR = 20,
    NFS3ERR_ISDIR = 21,
    NFS3ERR_INVAL = 22,
    NFS3ERR_FBIG = 27,
    NFS3ERR_NOSPC = 28,
    NFS3ERR_ROFS = 30,
    NFS3ERR_MLINK = 31,
    NFS3ERR_NAMETOOLONG = 63,
    NFS3ERR_NOTEMPTY = 66,
    NFS3ERR_DQUOT = 69,
    NFS3ERR_STALE = 70,
    NFS3ERR_REMOTE = 71,
    NFS3ERR_BADHANDLE = 10001,
    NFS3ERR_NOT_SYNC = 10002,
    NFS3ERR_BAD_COOKIE = 10003,
    NFS3ERR_NOTSUPP = 10004,
    NFS3ERR_TOOSMALL = 10005,
    NFS3ERR_SERVERFAULT = 10006,
    NFS3ERR_BADTYPE = 10007,
    NFS3ERR_JUKEBOX = 10008,
}

/// <summary>ftype3.</summary>
public enum Ftype3 : uint
{
    NF3REG = 1, NF3DIR = 2, NF3BLK = 3, NF3CHR = 4, NF3LNK = 5, NF3SOCK = 6, NF3FIFO = 7,
}

/// <summary>stable_how.</summary>
public enum StableHow3 : uint { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 }

/// <summary>createmode3.</summary>
public enum CreateMode3 : uint { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 }

/// <summary>time_how.</summary>
public enum TimeHow3 : uint { DONT_CHANGE = 0, SET_TO_SERVER_TIME = 1, SET_TO_CLIENT_TIME = 2 }

/// <summary>FSINFO properties bits.</summary>
[Flags]
public enum FsProperties3 : uint
{
    FSF3_LINK = 0x0001, FSF3_SYMLINK = 0x0002, FSF3_HOMOGENEOUS = 0x0008, FSF3_CANSETTIME = 0x0010,
}

/// <summary>Procedure numbers (RFC 1813 section 3).</summary>
public enum Nfs3Proc : uint
{
    NULL = 0, GETATTR = 1, SETATTR = 2, LOOKUP = 3, ACCESS = 4, READLINK = 5, READ = 6, WRITE = 7,
    CREATE = 8, MKDIR = 9, SYMLINK = 10, MKNOD = 11, REMOVE = 12, RMDIR = 13, RENAME = 14, LINK = 15,
    READDIR = 16, READDIRPLUS = 17, FSSTAT = 18, FSINFO = 19, PATHCONF = 20, COMMIT = 21,
}
