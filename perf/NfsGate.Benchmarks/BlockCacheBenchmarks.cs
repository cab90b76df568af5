using BenchmarkDotNet.Attributes;

namespace NfsGate.Benchmarks;

/// <summary>A READ's view of the block cache when the block is there: ranged gets from one cached 4 MiB block.</summary>
[MemoryDiagnoser]
public class BlockCacheBenchmarks
{
    private CachedBlock _block = null!;
    private byte[] _buf = [];

    [Params(65536, 1 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _block = await CachedBlock.CreateAsync();
        _buf = new byte[Size];
    }

    [GlobalCleanup]
    public void Cleanup() => _block.Dispose();

    [Benchmark]
    public ValueTask<int> CachedGet() => _block.Cache.GetAsync(CachedBlock.Key, 1 << 20, _buf);
}
