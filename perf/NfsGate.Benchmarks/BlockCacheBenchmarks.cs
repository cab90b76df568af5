using BenchmarkDotNet.Attributes;
using NfsGate.Data;
using NfsGate.Data.Cache;

namespace NfsGate.Benchmarks;

/// <summary>A READ's view of the block cache when the block is there: ranged gets from one cached 4 MiB block.</summary>
[MemoryDiagnoser]
public class BlockCacheBenchmarks
{
    private string _dir = "";
    private CachingObjectStore _cache = null!;
    private byte[] _buf = [];
    private const string Key = "chunks/0/0/1_0_4194304";

    [Params(65536, 1 << 20)]
    public int Size { get; set; }

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
        _buf = new byte[Size];
        if (!await _cache.IsCachedAsync(Key)) throw new InvalidOperationException("block not cached after put");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark]
    public ValueTask<int> CachedGet() => _cache.GetAsync(Key, 1 << 20, _buf);
}
