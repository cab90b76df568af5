using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NfsGate.Data.Cache;

/// <summary>
/// CRC-32C (Castagnoli), as in iSCSI, ext4 and RocksDB. <see cref="BitOperations.Crc32C(uint, ulong)"/> is the
/// SSE4.2 / ARMv8 instruction (software fallback elsewhere). Not System.IO.Hashing: that is a package, not part of
/// the shared framework, and only reaches this project transitively through AWSSDK.
/// <para>
/// Every cache hit checks the CRCs of the bytes it returns, so this is on the warm read path. One chain of crc32
/// instructions runs at one instruction per 3 cycles (each waits for the previous result), but the CPU can run three
/// at once: long inputs are cut into three stripes whose CRCs are computed side by side and then joined. Joining
/// uses linearity: the register after A||B equals Shift|B|(register after A) XOR (register after B from 0), where
/// Shift is "feed |B| zero bytes" — a fixed 32×32 bit matrix, applied here with four 256-entry tables.
/// </para>
/// <para>Where the CPU has vector carry-less multiplies (VPCLMULQDQ), long inputs go to <see cref="Crc32CFold"/> instead.</para>
/// </summary>
public static class Crc32C
{
    /// <summary>Bytes per stripe: 3 × 4 KiB per round, so a 64 KiB cache segment runs almost all interleaved.</summary>
    private const int Stripe = 4096;

    private static readonly uint[] ShiftTable = BuildShiftTable();

    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>How this CPU checks the cache (the startup log says it: the check's cost per MB read depends on it).</summary>
    public static string Method => Crc32CFold.Widest switch
    {
        512 => "512-bit carry-less fold (VPCLMULQDQ, AVX-512)",
        256 => "256-bit carry-less fold (VPCLMULQDQ, AVX2)",
        _ when System.Runtime.Intrinsics.X86.Sse42.IsSupported || System.Runtime.Intrinsics.Arm.Crc32.IsSupported => "crc32 instruction, three chains",
        _ => "software (no crc32 instruction)",
    };

    /// <summary>Continues a running (pre-inverted) CRC: start with ~0, finish with ~.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data) => Update(crc, data, Crc32CFold.Widest);

    /// <summary>
    /// <paramref name="foldWidth"/> 512 or 256: the fold on registers of that many bits (the CPU must have it); 0: the
    /// crc32 instruction alone. Tests and the micro-benchmark compare the paths.
    /// </summary>
    internal static uint Update(uint crc, ReadOnlySpan<byte> data, int foldWidth)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int length = data.Length, at = 0;
        if (foldWidth != 0 && length >= Crc32CFold.MinLength) crc = Crc32CFold.Update(crc, data, foldWidth, out at);
        for (; length - at >= 3 * Stripe; at += 3 * Stripe)
        {
            uint a = crc, b = 0, c = 0;
            ref byte s = ref Unsafe.Add(ref p, at);
            for (int i = 0; i < Stripe; i += 8)
            {
                a = BitOperations.Crc32C(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, i)));
                b = BitOperations.Crc32C(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, i + Stripe)));
                c = BitOperations.Crc32C(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, i + 2 * Stripe)));
            }
            crc = Shift(Shift(a) ^ b) ^ c;
        }
        for (; length - at >= 8; at += 8) crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, at)));
        for (; at < length; at++) crc = BitOperations.Crc32C(crc, Unsafe.Add(ref p, at));
        return crc;
    }

    /// <summary>The register after feeding <see cref="Stripe"/> zero bytes to <paramref name="crc"/>.</summary>
    private static uint Shift(uint crc)
    {
        var t = ShiftTable;
        return t[crc & 0xFF] ^ t[256 + ((crc >> 8) & 0xFF)] ^ t[512 + ((crc >> 16) & 0xFF)] ^ t[768 + (crc >> 24)];
    }

    /// <summary>Table k, entry v: Shift(v &lt;&lt; 8k), built from the 32 single-bit images (Shift is linear).</summary>
    private static uint[] BuildShiftTable()
    {
        Span<uint> bit = stackalloc uint[32];
        for (int j = 0; j < 32; j++)
        {
            uint r = 1u << j;
            for (int i = 0; i < Stripe; i += 8) r = BitOperations.Crc32C(r, 0UL);
            bit[j] = r;
        }
        var table = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
            for (int v = 0; v < 256; v++)
            {
                uint x = 0;
                for (int j = 0; j < 8; j++)
                    if ((v & (1 << j)) != 0) x ^= bit[8 * k + j];
                table[256 * k + v] = x;
            }
        return table;
    }
}
