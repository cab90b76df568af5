using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

/// <summary>
/// Every path of <see cref="Crc32C"/> the CPU runs (three interleaved crc32 chains, and the carry-less-multiply fold on
/// 256-bit and on 512-bit registers where it has them) against a bit-at-a-time reference, at the lengths where each
/// path starts, ends or hands over. A machine without a fold width cannot test it: this one's widths are in the
/// test output of <see cref="The_paths_this_cpu_runs"/>.
/// </summary>
public sealed class Crc32CTests
{
    private static readonly byte[] Bytes = RandomBytes(200_000, 7);

    /// <summary>0 (the chains), then each fold width the CPU has.</summary>
    private static readonly int[] Paths = [0, .. Crc32CFold.Is256Supported ? [256] : Array.Empty<int>(), .. Crc32CFold.Is512Supported ? [512] : Array.Empty<int>()];

    /// <summary>The textbook definition: reflected polynomial 0x82F63B78, one bit at a time.</summary>
    private static uint Reference(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return crc;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static TheoryData<int> Lengths() =>
    [
        0, 1, 7, 8, 9, 255, 256, 511, 512, 513, 767, 768, 1000, 4095, 12_287, 12_288, 12_289, 65_535, 65_536, 65_537,
        131_072 + 200, 199_936,
    ];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Every_path_matches_the_bitwise_definition(int length)
    {
        var rnd = new Random(length);
        for (int trial = 0; trial < 4; trial++)
        {
            int offset = trial == 0 ? 0 : rnd.Next(0, Bytes.Length - length + 1); // unaligned too
            uint start = trial == 0 ? ~0u : (uint)rnd.NextInt64(0, 1L << 32);
            var data = Bytes.AsSpan(offset, length);
            uint expected = Reference(start, data);
            Assert.Equal(expected, Crc32C.Update(start, data));
            foreach (int path in Paths) Assert.Equal(expected, Crc32C.Update(start, data, path));
        }
    }

    [Fact]
    public void The_paths_this_cpu_runs()
    {
        // The default path is the widest fold there is; an unknown width is refused, not silently the chains.
        Assert.Equal(Paths[^1], Crc32CFold.Widest);
        Assert.Throws<ArgumentOutOfRangeException>(() => Crc32C.Update(~0u, Bytes, 128));
        // What the startup log says is the path taken.
        Assert.StartsWith(Paths[^1] switch { 512 => "512-bit", 256 => "256-bit", _ => "crc32 instruction" }, Crc32C.Method);
        Console.WriteLine($"Crc32C paths on this CPU: {string.Join(", ", Paths)}; the default: {Crc32C.Method}");
    }

    [Fact]
    public void Random_lengths_and_splits_give_the_crc_of_the_whole()
    {
        var rnd = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            int length = rnd.Next(0, 40_000), offset = rnd.Next(0, 64), split = rnd.Next(0, length + 1);
            var data = Bytes.AsSpan(offset, length);
            uint whole = Reference(~0u, data);
            Assert.Equal(whole, Crc32C.Update(~0u, data));
            Assert.Equal(whole, Crc32C.Update(Crc32C.Update(~0u, data[..split]), data[split..]));
        }
    }

    [Fact]
    public void Published_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        // 32 bytes of zeros and of 0xFF: the iSCSI test vectors (RFC 3720, B.4).
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
    }

    [Fact]
    public void A_single_flipped_bit_in_a_long_input_changes_the_crc()
    {
        var data = (byte[])Bytes.Clone();
        uint before = Crc32C.Compute(data);
        foreach (int at in new[] { 0, 3, 255, 256, 4_000, 65_536, data.Length - 1 })
        {
            data[at] ^= 0x10;
            Assert.NotEqual(before, Crc32C.Compute(data));
            Assert.Equal(Reference(~0u, data) ^ ~0u, Crc32C.Compute(data));
            data[at] ^= 0x10;
        }
    }
}
