namespace NfsGate.Metadata;

/// <summary>
/// Outcome of a file-system operation. Protocol-neutral, but the values line up one-to-one with
/// RFC 1813 nfsstat3 so the protocol table that maps them stays trivial (and a test checks every value).
/// </summary>
public enum FsStatus
{
    Ok = 0, Perm = 1, NoEnt = 2, Io = 5, NxIo = 6, Acces = 13, Exist = 17, XDev = 18, NoDev = 19,
    NotDir = 20, IsDir = 21, Inval = 22, FBig = 27, NoSpc = 28, RoFs = 30, MLink = 31,
    NameTooLong = 63, NotEmpty = 66, DQuot = 69, Stale = 70, Remote = 71,
    BadHandle = 10001, NotSync = 10002, BadCookie = 10003, NotSupp = 10004, TooSmall = 10005,
    ServerFault = 10006, BadType = 10007, Jukebox = 10008,
}

/// <summary>File types, numbered as RFC 1813 ftype3.</summary>
public enum FileType : byte
{
    Regular = 1, Directory = 2, BlockDevice = 3, CharDevice = 4, Symlink = 5, Socket = 6, Fifo = 7,
}

/// <summary>Seconds and nanoseconds since the Unix epoch (nfstime3 carries uint32 seconds; we keep 64 bits).</summary>
public readonly record struct Timespec(long Seconds, uint Nanos) : IComparable<Timespec>
{
    public static Timespec Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks; // 100 ns units
        return new Timespec(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond) * 100);
    }
    public int CompareTo(Timespec other) => Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Nanos.CompareTo(other.Nanos);
}

/// <summary>The caller's identity after squashing: uid, primary gid and supplementary groups.</summary>
public sealed record Credential(uint Uid, uint Gid, uint[] Groups)
{
    public static readonly Credential Root = new(0, 0, []);
    public bool IsRoot => Uid == 0;
    public bool InGroup(uint gid) => Gid == gid || Array.IndexOf(Groups, gid) >= 0;
}

/// <summary>An inode's attributes (the fields of fattr3 that are stored).</summary>
public struct Attr
{
    public ulong Inode;
    /// <summary>Changes when an inode number is reused, so old file handles go STALE.</summary>
    public uint Generation;
    public FileType Type;
    /// <summary>Permission bits and setuid/setgid/sticky (07777); the type is in <see cref="Type"/>.</summary>
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ulong Size;
    public uint RdevMajor;
    public uint RdevMinor;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    /// <summary>Parent directory for directories (for ".."); 0 for other types (they may have many).</summary>
    public ulong Parent;

    public readonly WccAttr Wcc => new(Size, Mtime, Ctime);
}

/// <summary>The pre-operation attributes of wcc_data.</summary>
public readonly record struct WccAttr(ulong Size, Timespec Mtime, Timespec Ctime);

public enum TimeHow : byte { DontChange = 0, ServerTime = 1, ClientTime = 2 }

/// <summary>sattr3: each field optional.</summary>
public struct SetAttrRequest
{
    public uint? Mode;
    public uint? Uid;
    public uint? Gid;
    public ulong? Size;
    public TimeHow AtimeHow;
    public Timespec Atime;
    public TimeHow MtimeHow;
    public Timespec Mtime;
}

public enum CreateMode : byte { Unchecked = 0, Guarded = 1, Exclusive = 2 }

/// <summary>ACCESS3 bits (RFC 1813 section 3.3.4).</summary>
[Flags]
public enum AccessMask : uint
{
    Read = 0x01, Lookup = 0x02, Modify = 0x04, Extend = 0x08, Delete = 0x10, Execute = 0x20,
}

/// <summary>
/// Result of a namespace operation: the object's post-op attributes and wcc data of up to two directories
/// (and of the object itself for SETATTR/WRITE). Attributes are filled on failure too, where they could be read,
/// so the protocol can send post_op_attr / wcc_data in error replies.
/// </summary>
public sealed class OpResult
{
    public FsStatus Status;
    public Attr? Obj;
    public WccAttr? ObjBefore;
    public Attr? Dir;
    public WccAttr? DirBefore;
    public Attr? Dir2;
    public WccAttr? Dir2Before;
    /// <summary>Non-zero when the operation freed an inode (last link removed, or replaced by rename).</summary>
    public ulong FreedInode;
    /// <summary>True when the operation put slices on the delete queue (a freed file that had data).</summary>
    public bool QueuedDeletes;

    public static OpResult Fail(FsStatus s) => new() { Status = s };
}

/// <summary>LOOKUP's answer without a heap object: Obj = the found inode, Dir = the directory (null: it is gone).</summary>
public struct LookupResult
{
    public FsStatus Status;
    public Attr? Obj;
    public Attr? Dir;

    internal readonly LookupResult With(FsStatus s) => this with { Status = s };
}

public readonly record struct DirEntry(string Name, ulong Inode, ulong Cookie, Attr? Attr);

public sealed class ReadDirResult
{
    public FsStatus Status;
    public Attr? Dir;
    public ulong CookieVerifier;
    public List<DirEntry> Entries = [];
    public bool Eof;
}

/// <summary>Per-volume usage, for FSSTAT.</summary>
public readonly record struct VolumeUsage(ulong UsedBytes, ulong Inodes);
