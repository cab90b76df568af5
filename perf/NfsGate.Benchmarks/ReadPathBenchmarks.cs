using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using NfsGate.Data;
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
    private const string Key = "chunks/0/0/1_0_4194304";
    private string _dir = "";
    private CachingObjectStore _cache = null!;
    private SafeFileHandle _file = null!;
    private readonly byte[] _src = new byte[Size];
    private readonly byte[] _dst = new byte[Size];

    [GlobalSetup]
    public async Task Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "nfsgate-bdn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_dir, "objects"));
        _cache = new CachingObjectStore(new LocalDirObjectStore(Path.Combine(_dir, "objects")),
            new BlockCacheOptions { Path = Path.Combine(_dir, "cache"), SizeBytes = 1L << 30 });
        var block = new byte[4 << 20];
        Random.Shared.NextBytes(block);
        await _cache.PutAsync(Key, block);
        if (!await _cache.IsCachedAsync(Key)) throw new InvalidOperationException("block not cached after put");
        var plain = Path.Combine(_dir, "plain");
        await File.WriteAllBytesAsync(plain, block);
        _file = File.OpenHandle(plain);
        Random.Shared.NextBytes(_src);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "pread 1 MiB (page cache)")]
    public int Pread() => RandomAccess.Read(_file, _dst, 1 << 20);

    [Benchmark(Description = "CRC32C 1 MiB")]
    public uint Crc() => Crc32C.Compute(_src);

    [Benchmark(Description = "copy 1 MiB")]
    public void Copy() => _src.AsSpan().CopyTo(_dst);

    [Benchmark(Description = "cache hit 1 MiB (pread + CRC)")]
    public ValueTask<int> CachedGet() => _cache.GetAsync(Key, 1 << 20, _dst);
}
