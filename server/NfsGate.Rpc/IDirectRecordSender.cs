namespace NfsGate.Rpc;

/// <summary>
/// A transport that can send one record straight from the caller's buffer, past its <see cref="System.IO.Pipelines.PipeWriter"/>.
/// <see cref="RpcConnection"/> uses it for large replies (READ data): through the pipe a 1 MiB reply was copied once
/// more (reply buffer → 64 KiB pipe segments) and left in 16 sends; directly it is one gathered send of the 4-byte
/// record mark and the body. Called only under the connection's write lock, after every earlier pipe write has been
/// flushed, so records never interleave. Transports without it (in-memory pipes in tests) keep the pipe path.
/// </summary>
public interface IDirectRecordSender
{
    /// <summary>Sends <paramref name="body"/> as one record (a single last fragment) and returns once all of it was handed to the transport.</summary>
    ValueTask SendRecordAsync(ReadOnlyMemory<byte> body, CancellationToken ct);
}
