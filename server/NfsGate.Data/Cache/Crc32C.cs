using System.Numerics;
using System.Runtime.InteropServices;

namespace NfsGate.Data.Cache;

/// <summary>
/// CRC-32C (Castagnoli), as in iSCSI, ext4 and RocksDB. <see cref="BitOperations.Crc32C(uint, ulong)"/> is the
/// SSE4.2 / ARMv8 instruction (software fallback elsewhere): 8 bytes per instruction, several GB/s, so verifying every
/// cache read costs little next to reading it. Not System.IO.Hashing: that is a package, not part of the shared
/// framework, and only reaches this project transitively through AWSSDK.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>Continues a running (pre-inverted) CRC: start with ~0, finish with ~.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, MemoryMarshal.Read<ulong>(data));
            data = data[8..];
        }
        foreach (byte b in data) crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
