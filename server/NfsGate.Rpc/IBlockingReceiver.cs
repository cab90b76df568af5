namespace NfsGate.Rpc;

/// <summary>
/// A transport a dedicated thread can read with blocking receives, past its <see cref="System.IO.Pipelines.PipeReader"/>
/// (<see cref="RpcConnection.RunBlocking"/>). Transports without it (in-memory pipes in tests) keep the async loop.
/// </summary>
public interface IBlockingReceiver
{
    /// <summary>
    /// Waits at most <paramref name="timeoutMs"/> for bytes and reads what has arrived into <paramref name="buffer"/>:
    /// the count, 0 once the peer closed (or <see cref="StopReceiving"/> was called), -1 if nothing came in time.
    /// Throws for transport errors.
    /// </summary>
    int Receive(Span<byte> buffer, int timeoutMs);

    /// <summary>True when bytes are waiting to be read now.</summary>
    bool HasPending { get; }

    /// <summary>Wakes a blocked <see cref="Receive"/> for good (it returns 0): the server is stopping.</summary>
    void StopReceiving();
}
