namespace NfsGate.Rpc;

/// <summary>
/// Recently parsed AUTH_SYS credential bodies → their <see cref="RpcCredential"/>, so the calls of a client (which
/// sends the same body on every call: stamp, machine name, uid, gid, groups) do not allocate a credential, a
/// machine-name string and a groups array each. Direct-mapped with immutable entries published by reference: a
/// lookup takes no lock and a hit needs the exact same bytes, so it is the credential parsing would have produced.
/// </summary>
internal static class AuthSysCache
{
    private const int Slots = 256;
    private static readonly Entry?[] s_slots = new Entry?[Slots];

    private sealed class Entry(byte[] body, RpcCredential credential)
    {
        public readonly byte[] Body = body;
        public readonly RpcCredential Credential = credential;
    }

    public static bool TryGet(ReadOnlySpan<byte> body, out RpcCredential credential)
    {
        var e = Volatile.Read(ref s_slots[Slot(body)]);
        if (e is not null && body.SequenceEqual(e.Body))
        {
            credential = e.Credential;
            return true;
        }
        credential = RpcCredential.None;
        return false;
    }

    public static void Add(ReadOnlySpan<byte> body, RpcCredential credential) =>
        Volatile.Write(ref s_slots[Slot(body)], new Entry(body.ToArray(), credential));

    private static int Slot(ReadOnlySpan<byte> body)
    {
        var h = new HashCode();
        h.AddBytes(body);
        return h.ToHashCode() & (Slots - 1);
    }
}
