using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace NfsGate.Rpc;

/// <summary>
/// RFC 4506 encoder into a pooled, growable buffer. One writer per reply; <see cref="Dispose"/>
/// returns the buffer to the pool. Large payloads (READ data) are written in place through
/// <see cref="GetOpaqueSpan"/> so the bytes are copied once, from the store into the reply.
/// </summary>
public sealed class XdrWriter : IDisposable
{
    private byte[] _buf;
    private int _pos;

    public XdrWriter(int initialCapacity = 512) => _buf = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Bytes written so far.</summary>
    public int Length => _pos;
    public ReadOnlySpan<byte> WrittenSpan => _buf.AsSpan(0, _pos);
    public ReadOnlyMemory<byte> WrittenMemory => _buf.AsMemory(0, _pos);

    /// <summary>Moves the write position back (e.g. to drop a partial body and write an error instead).</summary>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)_pos) throw new ArgumentOutOfRangeException(nameof(length));
        _pos = length;
    }

    private Span<byte> Grab(int n)
    {
        if (_buf.Length - _pos < n)
        {
            int size = Math.Max(_buf.Length * 2, _pos + n);
            var next = ArrayPool<byte>.Shared.Rent(size);
            _buf.AsSpan(0, _pos).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = next;
        }
        var s = _buf.AsSpan(_pos, n);
        _pos += n;
        return s;
    }

    public void WriteUInt32(uint v) => BinaryPrimitives.WriteUInt32BigEndian(Grab(4), v);
    public void WriteInt32(int v) => BinaryPrimitives.WriteInt32BigEndian(Grab(4), v);
    public void WriteUInt64(ulong v) => BinaryPrimitives.WriteUInt64BigEndian(Grab(8), v);
    public void WriteInt64(long v) => BinaryPrimitives.WriteInt64BigEndian(Grab(8), v);
    public void WriteBool(bool v) => WriteUInt32(v ? 1u : 0u);

    /// <summary>Overwrites a uint already written at <paramref name="offset"/> (length prefixes, record marks).</summary>
    public void PatchUInt32(int offset, uint v) => BinaryPrimitives.WriteUInt32BigEndian(_buf.AsSpan(offset, 4), v);

    public void WriteFixedOpaque(ReadOnlySpan<byte> data)
    {
        var s = Grab(data.Length + XdrReader.Pad(data.Length));
        data.CopyTo(s);
        s[data.Length..].Clear();
    }

    public void WriteOpaque(ReadOnlySpan<byte> data)
    {
        WriteUInt32((uint)data.Length);
        WriteFixedOpaque(data);
    }

    public void WriteString(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        WriteUInt32((uint)n);
        var span = Grab(n + XdrReader.Pad(n));
        Encoding.UTF8.GetBytes(s, span);
        span[n..].Clear();
    }

    /// <summary>
    /// Writes an opaque length prefix and returns the span for its <paramref name="length"/> bytes (padding
    /// already zeroed). Fill it before writing anything else. Shrink with <see cref="ShrinkOpaque"/> if fewer bytes arrive.
    /// </summary>
    public Span<byte> GetOpaqueSpan(int length)
    {
        WriteUInt32((uint)length);
        var s = Grab(length + XdrReader.Pad(length));
        s[length..].Clear();
        return s[..length];
    }

    /// <summary>
    /// Like <see cref="GetOpaqueSpan"/>, but as <see cref="Memory{T}"/> so it can be filled across an await (an
    /// asynchronous block read straight into the reply). Valid until the next write to this writer.
    /// </summary>
    public Memory<byte> GetOpaqueMemory(int length)
    {
        WriteUInt32((uint)length);
        int start = _pos;
        var s = Grab(length + XdrReader.Pad(length));
        s[length..].Clear();
        return _buf.AsMemory(start, length);
    }

    /// <summary>Shrinks the opaque most recently started with <see cref="GetOpaqueSpan"/> (at <paramref name="lengthOffset"/>) to <paramref name="actual"/> bytes.</summary>
    public void ShrinkOpaque(int lengthOffset, int actual)
    {
        PatchUInt32(lengthOffset, (uint)actual);
        _pos = lengthOffset + 4 + actual;
        int pad = XdrReader.Pad(actual);
        Grab(pad).Clear();
    }

    public void Dispose()
    {
        var b = _buf;
        _buf = [];
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }
}
