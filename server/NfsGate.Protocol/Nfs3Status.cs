using NfsGate.Metadata;

namespace NfsGate.Protocol;

/// <summary>The one table from the file system's status to nfsstat3 (the values are equal by design).</summary>
public static class Nfs3Status
{
    /// <summary>
    /// Every FsStatus has an nfsstat3 with the same number; a value that does not (a future addition that
    /// forgot the protocol) becomes SERVERFAULT rather than an undefined number on the wire.
    /// </summary>
    public static NfsStat3 From(FsStatus s) => Enum.IsDefined((NfsStat3)(uint)s) ? (NfsStat3)(uint)s : NfsStat3.NFS3ERR_SERVERFAULT;
}
