using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using NfsGate.Data.Cache;

namespace NfsGate.Benchmarks;

/// <summary>
/// The pieces of a 1 MiB warm READ on the server, each alone, to see where a cache hit's time goes: the pread from a
/// file in the page cache (the kernel's copy), the CRC32C check of the 16 segments it touched, one user-space copy
/// of 1 MiB (what the reply path cost per copy before large replies skipped the pipe), and the whole verified hit.
/// </summary>
[MemoryDiagnoser]
public class ReadPathBenchmarks
{
    private const int Size = 1 << 20;
    private CachedBlock _block = null!;
    private SafeFileHandle _file = null!;
    private readonly byte[] _src = new byte[Size];
    private readonly byte[] _dst = new byte[Size];

    [GlobalSetup]
    public async Task Setup()
    {
        _block = await CachedBlock.CreateAsync();
        var plain = Path.Combine(_block.Dir, "plain");
        await File.WriteAllBytesAsync(plain, _block.Bytes);
        _file = File.OpenHandle(plain);
        Random.Shared.NextBytes(_src);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file.Dispose();
        _block.Dispose();
    }

    [Benchmark(Description = "pread 1 MiB (page cache)")]
    public int Pread() => RandomAccess.Read(_file, _dst, 1 << 20);

    [Benchmark(Description = "CRC32C 1 MiB")]
    public uint Crc() => Crc32C.Compute(_src);

    [Benchmark(Description = "copy 1 MiB")]
    public void Copy() => _src.AsSpan().CopyTo(_dst);

    [Benchmark(Description = "cache hit 1 MiB (pread + CRC)")]
    public ValueTask<int> CachedGet() => _block.Cache.GetAsync(CachedBlock.Key, 1 << 20, _dst);
}
