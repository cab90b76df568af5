namespace NfsGate.Rpc;

/// <summary>
/// An unframed reply message (rpc_msg) ready to be record-marked, or <see cref="IsEmpty"/> when nothing is to be sent.
/// Owns the writer it came from (if any); dispose after sending.
/// </summary>
public readonly struct RpcReply : IDisposable
{
    private readonly XdrWriter? _writer;
    private readonly ReadOnlyMemory<byte> _cached;

    private RpcReply(XdrWriter? writer, ReadOnlyMemory<byte> cached) { _writer = writer; _cached = cached; }

    public static RpcReply None => default;
    internal static RpcReply FromWriter(XdrWriter writer) => new(writer, default);
    internal static RpcReply FromBytes(byte[] bytes) => new(null, bytes);

    public bool IsEmpty => _writer is null && _cached.IsEmpty;
    public ReadOnlyMemory<byte> Body => _writer is not null ? _writer.WrittenMemory : _cached;

    public void Dispose() => _writer?.Dispose();
}
