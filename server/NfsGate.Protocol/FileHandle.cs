using System.Buffers.Binary;
using System.Security.Cryptography;

namespace NfsGate.Protocol;

/// <summary>A decoded, authenticated file handle: which export, which inode, which incarnation of it.</summary>
public readonly record struct FileHandle(uint ExportId, ulong Inode, uint Generation);

/// <summary>
/// Encodes and checks file handles. Layout (29 bytes, well under NFS3_FHSIZE):
/// <code>
///   [0]      version = 1
///   [1..5)   export (volume) id, big-endian u32
///   [5..13)  inode, big-endian u64
///   [13..17) generation, big-endian u32
///   [17..29) MAC = first 12 bytes of HMAC-SHA256(secret, bytes [0..17))
/// </code>
/// Nothing in it depends on the process or the node, so a handle survives restarts and works on every node
/// sharing the metadata. The MAC stops a client from forging handles to inodes it never looked up
/// (which would bypass directory permissions); 96 bits is what IPsec and TLS truncate HMACs to.
/// </summary>
public sealed class FileHandleCodec
{
    public const byte Version = 1;
    public const int BodySize = 1 + 4 + 8 + 4;
    public const int MacSize = 12;
    public const int Size = BodySize + MacSize;

    private readonly byte[] _secret;
    private readonly HandleMacCache _macs = new();
    // One HMAC context per thread, re-keyed never: HMACSHA256.HashData sets up (and tears down) an OpenSSL context per
    // call, which cost 5.8x a SHA-256 of the same 17 bytes. Only misses of _macs reach it.
    private readonly ThreadLocal<IncrementalHash> _hmac;

    /// <param name="secret">The deployment's secret (IMetadataStore.GetOrCreateSecret).</param>
    public FileHandleCodec(byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < 16) throw new ArgumentException("file-handle secret must be at least 16 bytes", nameof(secret));
        _secret = (byte[])secret.Clone();
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret));
    }

    public byte[] Encode(FileHandle h)
    {
        var buf = new byte[Size];
        Encode(h, buf);
        return buf;
    }

    /// <summary>Writes the handle into <paramref name="dest"/> (at least <see cref="Size"/> bytes); returns <see cref="Size"/>.</summary>
    public int Encode(FileHandle h, Span<byte> dest)
    {
        dest[0] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(dest[1..], h.ExportId);
        BinaryPrimitives.WriteUInt64BigEndian(dest[5..], h.Inode);
        BinaryPrimitives.WriteUInt32BigEndian(dest[13..], h.Generation);
        var mac = dest[BodySize..Size];
        if (_macs.TryGet(h, out var cached)) cached.CopyTo(mac);
        else
        {
            ComputeMac(dest[..BodySize], mac);
            _macs.Add(h, mac);
        }
        return Size;
    }

    /// <summary>
    /// Checks length, version and MAC (in constant time). Any mismatch is NFS3ERR_BADHANDLE: the handle was
    /// never issued by this deployment. Whether it still names a live object (STALE) is decided on resolve.
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> raw, out FileHandle h)
    {
        h = default;
        if (raw.Length != Size || raw[0] != Version) return false;
        var body = new FileHandle(
            BinaryPrimitives.ReadUInt32BigEndian(raw[1..]),
            BinaryPrimitives.ReadUInt64BigEndian(raw[5..]),
            BinaryPrimitives.ReadUInt32BigEndian(raw[13..]));
        // A cache hit holds the MAC this codec computed for exactly these fields, so comparing against it is the
        // same check as recomputing it; a forged or flipped handle either misses (and is computed) or mismatches.
        Span<byte> expected = stackalloc byte[MacSize];
        bool known = _macs.TryGet(body, out var cached);
        if (known) cached.CopyTo(expected);
        else ComputeMac(raw[..BodySize], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, raw[BodySize..Size])) return false;
        // Only verified handles enter the cache: garbage from the wire cannot evict the working set wholesale.
        if (!known) _macs.Add(body, expected);
        h = body;
        return true;
    }

    /// <summary>The first <see cref="MacSize"/> bytes of HMAC-SHA256(secret, body) into <paramref name="mac"/>.</summary>
    private void ComputeMac(ReadOnlySpan<byte> body, Span<byte> mac)
    {
        var hmac = _hmac.Value!;
        hmac.AppendData(body);
        Span<byte> full = stackalloc byte[32];
        hmac.GetHashAndReset(full);
        full[..MacSize].CopyTo(mac);
    }
}
