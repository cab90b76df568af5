namespace NfsGate.Rpc;

/// <summary>
/// The call header as decoded from a record (RFC 5531 §9):
/// <code>
/// struct rpc_msg { unsigned int xid; union switch (msg_type mtype) { case CALL: call_body cbody; case REPLY: reply_body rbody; } body; };
/// struct call_body { unsigned int rpcvers; unsigned int prog; unsigned int vers; unsigned int proc; opaque_auth cred; opaque_auth verf; /* args */ };
/// struct opaque_auth { auth_flavor flavor; opaque body&lt;400&gt;; };
/// struct authsys_parms { unsigned int stamp; string machinename&lt;255&gt;; unsigned int uid; unsigned int gid; unsigned int gids&lt;16&gt;; };
/// </code>
/// </summary>
public enum CallHeaderStatus
{
    Ok,
    /// <summary>Too short for an xid, or not a CALL: nothing can or should be answered (RFC 5531 servers ignore replies).</summary>
    Drop,
    /// <summary>rpcvers ≠ 2: MSG_DENIED RPC_MISMATCH.</summary>
    RpcMismatch,
    /// <summary>MSG_DENIED AUTH_ERROR with <see cref="CallHeader.AuthError"/>.</summary>
    AuthError,
    /// <summary>The header itself is truncated after the xid: answered GARBAGE_ARGS.</summary>
    Garbage,
}

public struct CallHeader
{
    public const int MaxAuthBody = 400;
    public const int MaxMachineName = 255;
    public const int MaxGids = 16;

    public uint Xid;
    public uint RpcVersion;
    public uint Program;
    public uint Version;
    public uint Procedure;
    public RpcCredential Credential;
    public AuthStat AuthError;
    /// <summary>Offset of the procedure arguments within the record.</summary>
    public int ArgsOffset;

    public static CallHeaderStatus Parse(ReadOnlySpan<byte> record, out CallHeader h)
    {
        h = default;
        h.Credential = RpcCredential.None;
        var r = new XdrReader(record);
        if (r.Remaining < 8) return CallHeaderStatus.Drop;
        h.Xid = r.ReadUInt32();
        if (r.ReadUInt32() != (uint)MsgType.CALL) return CallHeaderStatus.Drop;
        try
        {
            h.RpcVersion = r.ReadUInt32();
            // RFC 5531 §9: the version check comes first; the rest of a v1/v3 header may not even share this layout.
            if (h.RpcVersion != 2) return CallHeaderStatus.RpcMismatch;
            h.Program = r.ReadUInt32();
            h.Version = r.ReadUInt32();
            h.Procedure = r.ReadUInt32();

            var credFlavor = (AuthFlavor)r.ReadUInt32();
            uint credLen = r.ReadUInt32();
            if (credLen > MaxAuthBody) { h.AuthError = AuthStat.AUTH_BADCRED; return CallHeaderStatus.AuthError; }
            if (credLen > (uint)r.Remaining) return CallHeaderStatus.Garbage;
            var credBody = r.ReadFixedOpaque((int)credLen);

            r.ReadUInt32(); // verifier flavor: AUTH_NONE and AUTH_SYS calls carry no verifier we check.
            uint verfLen = r.ReadUInt32();
            if (verfLen > MaxAuthBody) { h.AuthError = AuthStat.AUTH_BADVERF; return CallHeaderStatus.AuthError; }
            r.ReadFixedOpaque((int)verfLen);
            h.ArgsOffset = r.Position;

            switch (credFlavor)
            {
                case AuthFlavor.AUTH_NONE:
                    h.Credential = RpcCredential.None;
                    return CallHeaderStatus.Ok;
                case AuthFlavor.AUTH_SYS:
                    if (AuthSysCache.TryGet(credBody, out h.Credential)) return CallHeaderStatus.Ok;
                    if (!TryParseAuthSys(credBody, out h.Credential)) { h.AuthError = AuthStat.AUTH_BADCRED; return CallHeaderStatus.AuthError; }
                    AuthSysCache.Add(credBody, h.Credential);
                    return CallHeaderStatus.Ok;
                default:
                    // AUTH_TOOWEAK, not AUTH_REJECTEDCRED: REJECTEDCRED tells a client its credential went stale and to
                    // refresh it and retry with the same flavor (an RPCSEC_GSS client would rebuild its context and loop),
                    // whereas TOOWEAK says this flavor is not acceptable here, which is final and what we mean.
                    h.AuthError = AuthStat.AUTH_TOOWEAK;
                    return CallHeaderStatus.AuthError;
            }
        }
        catch (XdrException)
        {
            return CallHeaderStatus.Garbage;
        }
    }

    /// <summary>Decodes authsys_parms; the body must be exactly one authsys_parms (trailing bytes are malformed).</summary>
    public static bool TryParseAuthSys(ReadOnlySpan<byte> body, out RpcCredential credential)
    {
        credential = RpcCredential.None;
        try
        {
            var r = new XdrReader(body);
            r.ReadUInt32(); // stamp
            string machine = r.ReadString(MaxMachineName);
            uint uid = r.ReadUInt32();
            uint gid = r.ReadUInt32();
            uint n = r.ReadUInt32();
            if (n > MaxGids) return false;
            var gids = n == 0 ? [] : new uint[n];
            for (int i = 0; i < gids.Length; i++) gids[i] = r.ReadUInt32();
            if (r.Remaining != 0) return false;
            credential = new RpcCredential(AuthFlavor.AUTH_SYS, uid, gid, gids, machine);
            return true;
        }
        catch (XdrException)
        {
            return false;
        }
    }
}
