using NfsGate.Protocol;
using NfsGate.Rpc;

namespace NfsGate.TestKit;

// Client-side views of RFC 1813 results, parsed from reply bytes by Nfs3Client. Kept as plain records so tests can
// compare them and print them.

public readonly record struct NfsTime(uint Seconds, uint Nanos);

public sealed record Fattr3(
    Ftype3 Type, uint Mode, uint Nlink, uint Uid, uint Gid, ulong Size, ulong Used, uint RdevMajor, uint RdevMinor,
    ulong Fsid, ulong FileId, NfsTime Atime, NfsTime Mtime, NfsTime Ctime)
{
    public static Fattr3 Read(ref XdrReader r) => new(
        (Ftype3)r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt64(), r.ReadUInt64(),
        r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt64(), r.ReadUInt64(), ReadTime(ref r), ReadTime(ref r), ReadTime(ref r));

    public static NfsTime ReadTime(ref XdrReader r) => new(r.ReadUInt32(), r.ReadUInt32());

    public static Fattr3? ReadPostOp(ref XdrReader r) => r.ReadBool() ? Read(ref r) : null;
}

public sealed record WccAttr3(ulong Size, NfsTime Mtime, NfsTime Ctime);

public sealed record Wcc3(WccAttr3? Before, Fattr3? After)
{
    public static Wcc3 Read(ref XdrReader r)
    {
        WccAttr3? before = r.ReadBool() ? new WccAttr3(r.ReadUInt64(), Fattr3.ReadTime(ref r), Fattr3.ReadTime(ref r)) : null;
        return new Wcc3(before, Fattr3.ReadPostOp(ref r));
    }
}

public sealed record AttrResult(NfsStat3 Status, Fattr3? Attr);
public sealed record WccResult(NfsStat3 Status, Wcc3 Wcc);
public sealed record LookupResult(NfsStat3 Status, byte[]? Handle, Fattr3? Attr, Fattr3? DirAttr);
public sealed record CreateResult(NfsStat3 Status, byte[]? Handle, Fattr3? Attr, Wcc3 DirWcc);
public sealed record AccessResult(NfsStat3 Status, Fattr3? Attr, uint Access);
public sealed record ReadLinkResult(NfsStat3 Status, Fattr3? Attr, string? Target);
public sealed record ReadResult3(NfsStat3 Status, Fattr3? Attr, uint Count, bool Eof, byte[] Data);
public sealed record WriteResult3(NfsStat3 Status, Wcc3 Wcc, uint Count, StableHow3 Committed, ulong Verifier);
public sealed record CommitResult(NfsStat3 Status, Wcc3 Wcc, ulong Verifier);
public sealed record RenameResult(NfsStat3 Status, Wcc3 FromWcc, Wcc3 ToWcc);
public sealed record LinkResult(NfsStat3 Status, Fattr3? Attr, Wcc3 DirWcc);
public sealed record DirEntry3(ulong FileId, string Name, ulong Cookie, Fattr3? Attr = null, byte[]? Handle = null);
public sealed record ReadDirResult3(NfsStat3 Status, Fattr3? DirAttr, ulong Verifier, IReadOnlyList<DirEntry3> Entries, bool Eof);
public sealed record FsStatResult(NfsStat3 Status, Fattr3? Attr, ulong TBytes, ulong FBytes, ulong ABytes, ulong TFiles, ulong FFiles, ulong AFiles, uint InvarSec);
public sealed record FsInfoResult(
    NfsStat3 Status, Fattr3? Attr, uint RtMax, uint RtPref, uint RtMult, uint WtMax, uint WtPref, uint WtMult, uint DtPref,
    ulong MaxFileSize, NfsTime TimeDelta, uint Properties);
public sealed record PathConfResult(NfsStat3 Status, Fattr3? Attr, uint LinkMax, uint NameMax, bool NoTrunc, bool ChownRestricted, bool CaseInsensitive, bool CasePreserving);
public sealed record MountResult(MountStat3 Status, byte[]? Handle, uint[] Flavors);
public sealed record PortMapping(uint Prog, uint Vers, uint Prot, uint Port);
public sealed record ExportEntry(string Dir, IReadOnlyList<string> Groups);

/// <summary>Thrown when a reply is not SUCCESS at the RPC level or is not exactly the expected shape.</summary>
public sealed class Nfs3ClientException(string message) : Exception(message);
