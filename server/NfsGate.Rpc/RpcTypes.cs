namespace NfsGate.Rpc;

// RFC 5531 section 9 wire values, names kept as in the RFC.

public enum MsgType : uint { CALL = 0, REPLY = 1 }
public enum ReplyStat : uint { MSG_ACCEPTED = 0, MSG_DENIED = 1 }

public enum AcceptStat : uint
{
    SUCCESS = 0,       // RPC executed successfully
    PROG_UNAVAIL = 1,  // remote hasn't exported program
    PROG_MISMATCH = 2, // remote can't support version #
    PROC_UNAVAIL = 3,  // program can't support procedure
    GARBAGE_ARGS = 4,  // procedure can't decode params
    SYSTEM_ERR = 5,    // e.g. memory allocation failure
}

public enum RejectStat : uint { RPC_MISMATCH = 0, AUTH_ERROR = 1 }

public enum AuthStat : uint
{
    AUTH_OK = 0,
    AUTH_BADCRED = 1,
    AUTH_REJECTEDCRED = 2,
    AUTH_BADVERF = 3,
    AUTH_REJECTEDVERF = 4,
    AUTH_TOOWEAK = 5,
    AUTH_INVALIDRESP = 6,
    AUTH_FAILED = 7,
}

public enum AuthFlavor : uint { AUTH_NONE = 0, AUTH_SYS = 1, AUTH_SHORT = 2, AUTH_DH = 3, RPCSEC_GSS = 6 }

/// <summary>
/// The caller's identity as the RPC layer decoded it. AUTH_NONE maps to nobody (65534) so that code above
/// never has to special-case a missing credential; <see cref="Flavor"/> still tells which it was.
/// </summary>
public sealed record RpcCredential(AuthFlavor Flavor, uint Uid, uint Gid, uint[] Gids, string MachineName)
{
    public const uint Nobody = 65534;
    public static readonly RpcCredential None = new(AuthFlavor.AUTH_NONE, Nobody, Nobody, [], "");
}

/// <summary>Per-procedure flags, read by the dispatcher (and by layers above through <see cref="RpcCall.Procedure"/>).</summary>
[Flags]
public enum ProcFlags
{
    None = 0,
    /// <summary>Replay must return the cached reply: CREATE, REMOVE, RENAME, ... (duplicate-request cache).</summary>
    NonIdempotent = 1,
    /// <summary>Changes state (refused on read-only exports by the protocol layer).</summary>
    MakesWrite = 2,
    /// <summary>Moves file data out (bandwidth accounting).</summary>
    DataRead = 4,
    /// <summary>Moves file data in (bandwidth accounting).</summary>
    DataWrite = 8,
    /// <summary>
    /// Answers from memory or a local read without blocking waits (no group commit, no fsync, no lock held by a slow
    /// call), so a connection's receive thread may run it itself instead of handing it to the pool (RpcConnection.Blocking.cs).
    /// A handler that goes asynchronous (a fetch from object storage) still frees that thread at its first await.
    /// </summary>
    Quick = 16,
}
