using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// What the NFSv3 dispatcher reports about each call (NULL excepted), for metrics and logs. Lives here rather than
/// in the server so the protocol layer stays free of any metrics library; the server turns it into Prometheus series.
/// Implementations run on every call: they must be cheap and thread-safe.
/// </summary>
public interface INfs3Observer
{
    /// <summary>
    /// A call is about to run. <paramref name="export"/> is the export the first handle names, or null when the handle
    /// names none (forged, garbled, or an export that is gone). The returned scope, if any, is disposed when the call
    /// ends, however it ends (the log context and the in-flight count live there).
    /// </summary>
    IDisposable? OnStarted(RpcCall call, Export? export, Nfs3Proc proc);

    /// <summary>
    /// A call produced a reply. <paramref name="bytesRead"/> / <paramref name="bytesWritten"/> are the data bytes a
    /// successful READ returned / WRITE accepted (0 otherwise). Not called when the arguments were garbage or the
    /// connection closed mid-call: the RPC layer's <see cref="IRpcObserver"/> sees those.
    /// </summary>
    void OnCompleted(RpcCall call, Export? export, Nfs3Proc proc, NfsStat3 status, TimeSpan elapsed, long bytesRead, long bytesWritten);
}
