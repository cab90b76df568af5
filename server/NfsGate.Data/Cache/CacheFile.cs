using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data.Cache;

/// <summary>
/// The on-disk format of one cached object. All integers little-endian.
/// <code>
///  offset  size            field
///  0       4               magic "NGBC"
///  4       2               version (1)
///  6       2               key length K in bytes (UTF-8), at most <see cref="MaxKeyBytes"/>
///  8       8               data length L
///  16      4               segment size S
///  20      4               CRC32C of the whole header with this field zeroed
///  24      K               key
///  24+K    4 × ceil(L/S)   CRC32C of each S-byte segment of the data (the last one may be shorter)
///  H       L               data (H = 24 + K + 4 × ceil(L/S))
/// </code>
/// The key is inside the file so the index can be rebuilt by scanning the directory; the file name is random, so a
/// reader holding a just-evicted entry can never open a newer file of the same key by mistake.
/// </summary>
internal static class CacheFile
{
    public const uint Magic = 0x4342474E; // "NGBC" read as little-endian
    public const ushort Version = 1;
    public const int FixedHeader = 24;
    public const int MaxKeyBytes = 1024;

    public static int SegmentCount(long length, int segmentSize) => (int)((length + segmentSize - 1) / segmentSize);

    public static int HeaderLength(int keyBytes, long length, int segmentSize) => FixedHeader + keyBytes + 4 * SegmentCount(length, segmentSize);

    /// <summary>The header (with CRCs) of <paramref name="data"/> stored under <paramref name="key"/>, and the per-segment CRCs.</summary>
    public static (byte[] Header, uint[] Crcs) BuildHeader(string key, ReadOnlySpan<byte> data, int segmentSize)
    {
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        var crcs = new uint[SegmentCount(data.Length, segmentSize)];
        for (int i = 0; i < crcs.Length; i++)
        {
            int start = i * segmentSize;
            crcs[i] = Crc32C.Compute(data.Slice(start, Math.Min(segmentSize, data.Length - start)));
        }
        var header = new byte[HeaderLength(keyBytes, data.Length, segmentSize)];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)keyBytes);
        BinaryPrimitives.WriteInt64LittleEndian(h[8..], data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], segmentSize);
        Encoding.UTF8.GetBytes(key, h.Slice(FixedHeader, keyBytes));
        for (int i = 0; i < crcs.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(h[(FixedHeader + keyBytes + 4 * i)..], crcs[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], Crc32C.Compute(h));
        return (header, crcs);
    }

    /// <summary>What a valid header says.</summary>
    public readonly record struct Header(string Key, long Length, int SegmentSize, int HeaderLength, uint[] Crcs);

    /// <summary>
    /// Reads and checks the header of a cache file: null if it is not a complete, intact cache file of this version
    /// whose object fits <paramref name="maxLength"/> (a torn write, a crash before the data reached the disk, foreign junk).
    /// </summary>
    public static Header? TryReadHeader(SafeFileHandle handle, long fileLength, long maxLength)
    {
        if (fileLength < FixedHeader) return null;
        Span<byte> fixedPart = stackalloc byte[FixedHeader];
        if (RandomAccess.Read(handle, fixedPart, 0) != FixedHeader) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(fixedPart) != Magic) return null;
        if (BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[4..]) != Version) return null;
        int keyBytes = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[6..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(fixedPart[8..]);
        int segmentSize = BinaryPrimitives.ReadInt32LittleEndian(fixedPart[16..]);
        // Caps checked before allocating anything sized by the file.
        if (keyBytes is 0 or > MaxKeyBytes || length < 0 || length > maxLength || segmentSize <= 0) return null;
        int headerLength = HeaderLength(keyBytes, length, segmentSize);
        if (fileLength != headerLength + length) return null;

        var header = new byte[headerLength];
        fixedPart.CopyTo(header);
        if (RandomAccess.Read(handle, header.AsSpan(FixedHeader), FixedHeader) != headerLength - FixedHeader) return null;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(20));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 0);
        if (Crc32C.Compute(header) != stored) return null;

        string key;
        try
        {
            key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header, FixedHeader, keyBytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var crcs = new uint[SegmentCount(length, segmentSize)];
        for (int i = 0; i < crcs.Length; i++) crcs[i] = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(FixedHeader + keyBytes + 4 * i));
        return new Header(key, length, segmentSize, headerLength, crcs);
    }
}
