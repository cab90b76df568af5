using System.Buffers.Binary;
using System.Text;

namespace NfsGate.Rpc;

/// <summary>
/// RFC 4506 decoder over one contiguous record. Every variable length is checked against a caller
/// cap and against the bytes left *before* anything is allocated.
/// </summary>
public ref struct XdrReader
{
    private readonly ReadOnlySpan<byte> _buf;
    private int _pos;

    public XdrReader(ReadOnlySpan<byte> buffer) { _buf = buffer; _pos = 0; }

    public readonly int Position => _pos;
    public readonly int Remaining => _buf.Length - _pos;
    public readonly ReadOnlySpan<byte> Rest => _buf[_pos..];

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || n > _buf.Length - _pos) throw new XdrException($"truncated: need {n} bytes at {_pos}, have {_buf.Length - _pos}");
        var s = _buf.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool()
    {
        uint v = ReadUInt32();
        if (v > 1) throw new XdrException($"bool out of range: {v}");
        return v == 1;
    }

    /// <summary>Enum as a uint; the caller validates the range (unknown values are a protocol status, not a crash).</summary>
    public uint ReadEnum() => ReadUInt32();

    /// <summary>Fixed-length opaque[n] (padded to 4).</summary>
    public ReadOnlySpan<byte> ReadFixedOpaque(int length)
    {
        var s = Take(length);
        Skip(Pad(length));
        return s;
    }

    /// <summary>Variable-length opaque&lt;max&gt;: the length is checked against <paramref name="maxLength"/> first.</summary>
    public ReadOnlySpan<byte> ReadOpaque(int maxLength)
    {
        uint len = ReadUInt32();
        if (len > (uint)maxLength) throw new XdrException($"opaque length {len} exceeds cap {maxLength}");
        return ReadFixedOpaque((int)len);
    }

    /// <summary>string&lt;max&gt;, decoded as UTF-8 (invalid bytes are replaced, never thrown on).</summary>
    public string ReadString(int maxLength) => Encoding.UTF8.GetString(ReadOpaque(maxLength));

    public void Skip(int n) => Take(n);

    public static int Pad(int length) => (4 - (length & 3)) & 3;
}
