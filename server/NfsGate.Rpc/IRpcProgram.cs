using System.Net;

namespace NfsGate.Rpc;

/// <summary>One decoded call, as the RPC layer hands it to a program.</summary>
public sealed class RpcCall
{
    public required uint Xid { get; init; }
    public required uint Program { get; init; }
    public required uint Version { get; init; }
    public required RpcProcedure Procedure { get; init; }
    public required RpcCredential Credential { get; init; }
    /// <summary>The peer's address (IPv4-mapped IPv6 is unmapped to IPv4).</summary>
    public required IPEndPoint Client { get; init; }
    /// <summary>Unique per connection, for logs.</summary>
    public required long ConnectionId { get; init; }
    /// <summary>The call's argument bytes (everything after the call header). Valid until the handler completes.</summary>
    public required ReadOnlyMemory<byte> Args { get; init; }
}

/// <summary>
/// A procedure handler: decode <see cref="RpcCall.Args"/> synchronously with an <see cref="XdrReader"/>
/// (an <see cref="XdrException"/> becomes GARBAGE_ARGS), do the work, write the results into
/// <paramref name="results"/> and return SUCCESS. Returning another <see cref="AcceptStat"/> discards what was written.
/// </summary>
public delegate ValueTask<AcceptStat> RpcHandler(RpcCall call, XdrWriter results, CancellationToken ct);

public sealed record RpcProcedure(uint Number, string Name, RpcHandler Handler, ProcFlags Flags = ProcFlags.None);

/// <summary>An ONC RPC program (one number, a range of versions), e.g. NFS v3, MOUNT v3, portmapper v2.</summary>
public interface IRpcProgram
{
    uint Program { get; }
    uint LowVersion { get; }
    uint HighVersion { get; }
    string Name { get; }
    /// <summary>The procedure, or null for PROC_UNAVAIL. Called only for versions within the range.</summary>
    RpcProcedure? GetProcedure(uint version, uint procedure);
}
