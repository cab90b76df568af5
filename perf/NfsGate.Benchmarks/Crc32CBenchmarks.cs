using BenchmarkDotNet.Attributes;
using NfsGate.Data.Cache;

namespace NfsGate.Benchmarks;

/// <summary>
/// The block cache's check of every segment it returns: CRC-32C by three interleaved crc32 chains against the
/// carry-less fold (<c>Crc32CFold</c>) on 256-bit and on 512-bit registers; a width the CPU lacks runs the chains
/// (the report's header names the CPU's instruction set: x86-64-v4 has both widths).
/// 64 KiB is one cache segment, held in the CPU's caches across calls as a hot READ's buffer is; 16 MiB does not fit
/// them, so it also shows the rate from memory.
/// </summary>
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(65536, 16 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint Chains() => Crc32C.Update(~0u, _data, 0);

    [Benchmark]
    public uint Fold256() => Crc32C.Update(~0u, _data, Crc32CFold.Is256Supported ? 256 : 0);

    [Benchmark]
    public uint Fold512() => Crc32C.Update(~0u, _data, Crc32CFold.Is512Supported ? 512 : 0);
}
