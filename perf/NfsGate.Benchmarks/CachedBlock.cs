using NfsGate.Data;
using NfsGate.Data.Cache;

namespace NfsGate.Benchmarks;

/// <summary>
/// A block cache (1 GiB, in a temp directory, over a local-directory object store) that holds one 4 MiB block of
/// random bytes, checked to be cached: what a warm READ finds. Shared by the cache and read-path benchmarks.
/// </summary>
internal sealed class CachedBlock : IDisposable
{
    /// <summary>Block 0 of slice 1, a whole 4 MiB block (the key names its length).</summary>
    public const string Key = "chunks/0/0/1_0_4194304";

    private CachedBlock(string dir, CachingObjectStore cache, byte[] bytes) { Dir = dir; Cache = cache; Bytes = bytes; }

    public string Dir { get; }
    public CachingObjectStore Cache { get; }
    public byte[] Bytes { get; }

    public static async Task<CachedBlock> CreateAsync()
    {
        var dir = BenchDir.Create();
        Directory.CreateDirectory(Path.Combine(dir, "objects"));
        var cache = new CachingObjectStore(new LocalDirObjectStore(Path.Combine(dir, "objects")),
            new BlockCacheOptions { Path = Path.Combine(dir, "cache"), SizeBytes = 1L << 30 });
        var block = new byte[4 << 20];
        Random.Shared.NextBytes(block);
        await cache.PutAsync(Key, block);
        if (!await cache.IsCachedAsync(Key)) throw new InvalidOperationException("block not cached after put");
        return new CachedBlock(dir, cache, block);
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
