using System.Net;

namespace NfsGate.Rpc;

/// <summary>
/// The dispatcher's one choke point for metrics and logging: called once per call that reached a procedure
/// (replays answered from the duplicate-request cache included, with <paramref name="fromCache"/> set).
/// Implementations must be cheap and thread-safe; they run on the reply path.
/// </summary>
public interface IRpcObserver
{
    void OnCompleted(RpcCall call, AcceptStat stat, TimeSpan elapsed, int replyBytes, bool fromCache);

    /// <summary>A call refused before reaching a procedure (denied, unknown program/version/procedure, garbled header).</summary>
    void OnRefused(IPEndPoint client, uint program, uint version, uint procedure, string reason) { }
}
