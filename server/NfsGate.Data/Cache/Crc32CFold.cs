using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NfsGate.Data.Cache;

/// <summary>
/// CRC-32C of long inputs by carry-less multiplication (VPCLMULQDQ): on 512-bit registers where the CPU has AVX-512
/// (Zen 4, Ice Lake and later; 38 GB/s on 64 KiB segments against 15.5 for three interleaved crc32 chains on such a
/// machine), on 256-bit registers where it has VPCLMULQDQ with AVX2 only (Zen 3, Alder Lake; 25.4 against 20.7 GB/s
/// on an EPYC of that kind, `Crc32CBenchmarks` in perf/NfsGate.Benchmarks). Why it matters: every block-cache hit
/// checks the CRCs of the bytes it returns, and that check was 7–12% of nfsgate's CPU samples in 16-connection reads
/// (perf/README.md). Other CPUs keep the crc32 chains.
/// <para>
/// The math, in the reflected bit order of this CRC (bit 0 of the first byte is the highest power of x): a 16-byte
/// lane read little-endian holds a polynomial whose register bit j is the coefficient of x^(127-j). Moving a lane D
/// bits further down the message multiplies it by x^D, and only its residue mod P matters, so a lane A = lo·x^64 + hi
/// becomes lo·(x^(64+D) mod P) + hi·(x^D mod P), a value of at most 96 bits that still fits a lane. A carry-less
/// multiply of reflected operands yields the product times x (the top bit of the 128-bit result is always 0), hence
/// the constants are x^(64+D-1) and x^(D-1) mod P. Sixteen lanes (four 512-bit or eight 256-bit registers) run side
/// by side, 256 bytes apart per step, and are folded into one lane at the end; that lane, read as a 16-byte message,
/// has the CRC of all the bytes before it, which the crc32 instruction finishes. The running CRC enters by XOR into the first four bytes
/// (the register is linear in the data).
/// </para>
/// </summary>
internal static class Crc32CFold
{
    /// <summary>Bytes per step: four 64-byte registers.</summary>
    private const int Step = 256;

    /// <summary>Shorter inputs go to the crc32 instruction: the set-up and final fold would cost more than they save.</summary>
    public const int MinLength = 2 * Step;

    public static bool Is512Supported => Pclmulqdq.V512.IsSupported && Avx512F.IsSupported;

    public static bool Is256Supported => Pclmulqdq.V256.IsSupported && Avx2.IsSupported;

    /// <summary>The widest fold this CPU runs: 512, 256, or 0 for none.</summary>
    public static readonly int Widest = Is512Supported ? 512 : Is256Supported ? 256 : 0;

    // Per 128-bit lane: (x^(64+D-1) mod P, x^(D-1) mod P) for the distance D the lane moves.
    private static readonly Vector512<ulong> By2048 = Pair(2048);
    private static readonly Vector512<ulong> By512 = Pair(512);
    // Lanes 0..2 of the last register move 384, 256 and 128 bits; lane 3 stays (zeros: its product is 0, added apart).
    private static readonly Vector512<ulong> ToLast = Vector512.Create(
        Constant(64 + 384 - 1), Constant(384 - 1), Constant(64 + 256 - 1), Constant(256 - 1),
        Constant(64 + 128 - 1), Constant(128 - 1), 0UL, 0UL);

    // The same pairs for 256-bit registers (two lanes each, 32 bytes apart) and for the last step on one lane pair.
    private static readonly Vector256<ulong> By2048x2 = By2048.GetLower();
    private static readonly Vector256<ulong> By256x2 = Pair(256).GetLower();
    private static readonly Vector128<ulong> By128 = Pair(128).GetLower().GetLower();

    /// <summary>
    /// Continues the running (pre-inverted) <paramref name="crc"/> over the first <paramref name="consumed"/> bytes
    /// of <paramref name="data"/>, a multiple of 256; the caller finishes the rest. Needs <paramref name="width"/>
    /// supported (<see cref="Widest"/> or 256 under it) and at least <see cref="MinLength"/> bytes.
    /// </summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data, int width, out int consumed) => width == 512
        ? Update512(crc, data, out consumed)
        : width == 256 ? Update256(crc, data, out consumed) : throw new ArgumentOutOfRangeException(nameof(width));

    private static uint Update512(uint crc, ReadOnlySpan<byte> data, out int consumed)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int n = data.Length / Step * Step;
        var x0 = Vector512.LoadUnsafe(ref p).AsUInt64() ^ Vector512.CreateScalar((ulong)crc);
        var x1 = Vector512.LoadUnsafe(ref p, 64).AsUInt64();
        var x2 = Vector512.LoadUnsafe(ref p, 128).AsUInt64();
        var x3 = Vector512.LoadUnsafe(ref p, 192).AsUInt64();
        var k = By2048;
        for (nuint at = Step; at < (nuint)n; at += Step)
        {
            x0 = Fold(x0, k) ^ Vector512.LoadUnsafe(ref p, at).AsUInt64();
            x1 = Fold(x1, k) ^ Vector512.LoadUnsafe(ref p, at + 64).AsUInt64();
            x2 = Fold(x2, k) ^ Vector512.LoadUnsafe(ref p, at + 128).AsUInt64();
            x3 = Fold(x3, k) ^ Vector512.LoadUnsafe(ref p, at + 192).AsUInt64();
        }
        x1 ^= Fold(x0, By512);
        x2 ^= Fold(x1, By512);
        x3 ^= Fold(x2, By512);
        var y = Fold(x3, ToLast);
        var last = y.GetLower().GetLower() ^ y.GetLower().GetUpper() ^ y.GetUpper().GetLower() ^ x3.GetUpper().GetUpper();

        consumed = n;
        return Finish(last);
    }

    private static uint Update256(uint crc, ReadOnlySpan<byte> data, out int consumed)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int n = data.Length / Step * Step;
        // Eight registers, so that a step covers the same 256 bytes (and uses the same distance) as the 512-bit path.
        var x0 = Vector256.LoadUnsafe(ref p).AsUInt64() ^ Vector256.CreateScalar((ulong)crc);
        var x1 = Vector256.LoadUnsafe(ref p, 32).AsUInt64();
        var x2 = Vector256.LoadUnsafe(ref p, 64).AsUInt64();
        var x3 = Vector256.LoadUnsafe(ref p, 96).AsUInt64();
        var x4 = Vector256.LoadUnsafe(ref p, 128).AsUInt64();
        var x5 = Vector256.LoadUnsafe(ref p, 160).AsUInt64();
        var x6 = Vector256.LoadUnsafe(ref p, 192).AsUInt64();
        var x7 = Vector256.LoadUnsafe(ref p, 224).AsUInt64();
        var k = By2048x2;
        for (nuint at = Step; at < (nuint)n; at += Step)
        {
            x0 = Fold(x0, k) ^ Vector256.LoadUnsafe(ref p, at).AsUInt64();
            x1 = Fold(x1, k) ^ Vector256.LoadUnsafe(ref p, at + 32).AsUInt64();
            x2 = Fold(x2, k) ^ Vector256.LoadUnsafe(ref p, at + 64).AsUInt64();
            x3 = Fold(x3, k) ^ Vector256.LoadUnsafe(ref p, at + 96).AsUInt64();
            x4 = Fold(x4, k) ^ Vector256.LoadUnsafe(ref p, at + 128).AsUInt64();
            x5 = Fold(x5, k) ^ Vector256.LoadUnsafe(ref p, at + 160).AsUInt64();
            x6 = Fold(x6, k) ^ Vector256.LoadUnsafe(ref p, at + 192).AsUInt64();
            x7 = Fold(x7, k) ^ Vector256.LoadUnsafe(ref p, at + 224).AsUInt64();
        }
        k = By256x2;
        x1 ^= Fold(x0, k);
        x2 ^= Fold(x1, k);
        x3 ^= Fold(x2, k);
        x4 ^= Fold(x3, k);
        x5 ^= Fold(x4, k);
        x6 ^= Fold(x5, k);
        x7 ^= Fold(x6, k);
        var last = Fold(x7.GetLower(), By128) ^ x7.GetUpper();
        consumed = n;
        return Finish(last);
    }

    /// <summary>The CRC of the one lane left, read as 16 bytes of message (the running CRC is already in it).</summary>
    private static uint Finish(Vector128<ulong> last)
    {
        uint crc = BitOperations.Crc32C(0u, last.GetElement(0));
        return BitOperations.Crc32C(crc, last.GetElement(1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> x, Vector128<ulong> k) =>
        Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Fold(Vector256<ulong> x, Vector256<ulong> k) =>
        Pclmulqdq.V256.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x, k, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Fold(Vector512<ulong> x, Vector512<ulong> k) =>
        Pclmulqdq.V512.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x, k, 0x11);

    private static Vector512<ulong> Pair(int bits)
    {
        ulong lo = Constant(64 + bits - 1), hi = Constant(bits - 1);
        return Vector512.Create(lo, hi, lo, hi, lo, hi, lo, hi);
    }

    /// <summary>x^e mod P as a reflected multiplier operand: the coefficient of x^d in bit 63 - d.</summary>
    internal static ulong Constant(int e)
    {
        const ulong P = 0x1_1EDC_6F41; // CRC-32C, x^32 term included, normal bit order
        ulong r = 1;
        for (int i = 0; i < e; i++)
        {
            r <<= 1;
            if ((r & (1UL << 32)) != 0) r ^= P;
        }
        ulong operand = 0;
        for (int d = 0; d < 32; d++)
            if ((r & (1UL << d)) != 0) operand |= 1UL << (63 - d);
        return operand;
    }
}
