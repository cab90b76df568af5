using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace NfsGate.Rpc;

/// <summary>
/// RFC 5531 §11 record marking: each fragment is preceded by a 4-byte big-endian header whose top bit marks the
/// last fragment of a record and whose low 31 bits give the fragment length.
/// </summary>
public static class RecordMarking
{
    public const uint LastFragmentBit = 0x8000_0000;
    public const int HeaderSize = 4;

    public static void WriteHeader(Span<byte> destination, int fragmentLength, bool last = true)
        => BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)fragmentLength | (last ? LastFragmentBit : 0));

    /// <summary>Writes <paramref name="body"/> as one record of a single last fragment (replies are never split).</summary>
    public static void WriteRecord(IBufferWriter<byte> output, ReadOnlySpan<byte> body)
    {
        var header = output.GetSpan(HeaderSize);
        WriteHeader(header, body.Length);
        output.Advance(HeaderSize);
        output.Write(body);
    }

    /// <summary>Writes and flushes one framed record.</summary>
    public static ValueTask<FlushResult> WriteRecordAsync(PipeWriter output, ReadOnlySpan<byte> body, CancellationToken ct = default)
    {
        WriteRecord(output, body);
        return output.FlushAsync(ct);
    }
}

/// <summary>A reassembled record in a pooled buffer. <see cref="Return"/> gives the buffer back; call it once.</summary>
public readonly struct RpcRecord
{
    private readonly byte[] _array;
    public int Length { get; }

    internal RpcRecord(byte[] array, int length) { _array = array; Length = length; }

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);
    public ReadOnlySpan<byte> Span => _array.AsSpan(0, Length);

    public void Return()
    {
        if (_array is { Length: > 0 }) ArrayPool<byte>.Shared.Return(_array);
    }
}

public enum RecordStatus { NeedMore, Complete, TooLarge }
