using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

/// <summary>
/// The hit path: CRC32C (the interleaved version against a bit-by-bit reference), cache files kept open between hits
/// (bounded, closed on eviction), and verification on every read even through a handle that stays open.
/// </summary>
public sealed class CacheReadPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-cache-read-").FullName;
    private readonly CountingStore _inner = new();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private CachingObjectStore Open(int maxOpenFiles = 256, int segmentSize = 64 << 10) =>
        new(_inner, new BlockCacheOptions
        {
            Path = _dir,
            SizeBytes = 64 << 20,
            SegmentSize = segmentSize,
            MaxOpenFiles = maxOpenFiles,
            FreeSpaceRatio = () => 0.5,
        });

    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static async Task<byte[]> Read(IObjectStore s, string key, long offset, int length)
    {
        var buf = new byte[length];
        int n = await s.GetAsync(key, offset, buf);
        // A miss is answered before its cache file is written; these tests look at the files and counters next.
        if (s is CachingObjectStore cache) await cache.SettleAsync();
        return buf[..n];
    }

    private string[] CacheFiles() => Directory.EnumerateFiles(Path.Combine(_dir, "data"), "*", SearchOption.AllDirectories).ToArray();

    /// <summary>CRC-32C bit by bit (reflected polynomial 0x82F63B78): slow, obviously right.</summary>
    private static uint Reference(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value_and_a_bitwise_reference_at_every_length_class()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8)); // the catalogued check value of CRC-32C
        var rnd = new Random(11);
        var data = Data(100_000, 12);
        // Around the 12 KiB interleaved round (3 × 4 KiB) and its multiples, plus odd tails and random lengths.
        int[] lengths = [0, 1, 7, 8, 9, 4095, 12_287, 12_288, 12_289, 24_576, 24_583, 65_536, 100_000];
        foreach (int n in lengths.Concat(Enumerable.Range(0, 40).Select(_ => rnd.Next(0, 100_000))))
        {
            var span = data.AsSpan(0, n);
            uint expected = Reference(span);
            Assert.Equal(expected, Crc32C.Compute(span));
            int cut = n == 0 ? 0 : rnd.Next(0, n);
            Assert.Equal(expected, ~Crc32C.Update(Crc32C.Update(~0u, span[..cut]), span[cut..])); // chained
        }
    }

    [Fact]
    public async Task Hits_reuse_one_open_handle_and_eviction_closes_it()
    {
        var data = Data(1 << 20, 1);
        _inner.Seed("k", data);
        var cache = Open();
        for (int i = 0; i < 8; i++) Assert.Equal(data[(i * 131_072)..((i + 1) * 131_072)], await Read(cache, "k", i * 131_072, 131_072));
        Assert.Equal((1L, 7L), (cache.Counters.Misses, cache.Counters.Hits));
        Assert.Equal(1, cache.OpenFiles);

        var file = Assert.Single(CacheFiles());
        Assert.True(cache.Evict("k"));
        Assert.Equal(0, cache.OpenFiles);
        Assert.False(File.Exists(file));
        Assert.Equal(data[..100], await Read(cache, "k", 0, 100)); // refetched, not served from the closed handle
        Assert.Equal(2, _inner.Gets);
    }

    [Fact]
    public async Task Open_handles_stay_under_the_cap_and_reads_stay_right()
    {
        var cache = Open(maxOpenFiles: 2);
        for (int k = 0; k < 5; k++) _inner.Seed($"o/{k}", Data(50_000, 100 + k));
        for (int round = 0; round < 3; round++)
            for (int k = 0; k < 5; k++)
            {
                Assert.Equal(Data(50_000, 100 + k)[1000..41_000], await Read(cache, $"o/{k}", 1000, 40_000));
                Assert.InRange(cache.OpenFiles, 0, 2);
            }
        Assert.Equal(5, _inner.Gets);
        Assert.Equal(10, cache.Counters.Hits);
    }

    [Fact]
    public async Task No_kept_handles_still_serves_hits()
    {
        var data = Data(70_000, 3);
        _inner.Seed("k", data);
        var cache = Open(maxOpenFiles: 0);
        Assert.Equal(data, await Read(cache, "k", 0, 70_000));
        Assert.Equal(data, await Read(cache, "k", 0, 70_000));
        Assert.Equal((1L, 1L, 0), (cache.Counters.Misses, cache.Counters.Hits, cache.OpenFiles));
    }

    [Fact]
    public async Task Corruption_after_the_handle_is_kept_is_still_caught_on_the_next_read()
    {
        var data = Data(300_000, 4);
        _inner.Seed("k", data);
        var cache = Open(segmentSize: 4096);
        Assert.Equal(data, await Read(cache, "k", 0, 300_000));
        Assert.Equal(data, await Read(cache, "k", 0, 300_000)); // a verified hit through the kept handle
        Assert.Equal(1, cache.OpenFiles);
        var file = Assert.Single(CacheFiles());

        // Damage one byte in place (same inode, so the kept handle sees it), in a segment read before.
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = fs.Length - 200_000;
            int b = fs.ReadByte();
            fs.Position = fs.Length - 200_000;
            fs.WriteByte((byte)(b ^ 0x40));
        }

        Assert.Equal(data[50_000..150_000], await Read(cache, "k", 50_000, 100_000));
        Assert.Equal(1, cache.Counters.ChecksumFailures);
        Assert.Equal(2, cache.Counters.InnerFetches);
        Assert.False(File.Exists(file));
        Assert.Equal(data, await Read(cache, "k", 0, 300_000)); // the refetched copy
        Assert.Equal(1, cache.Counters.ChecksumFailures);
    }

    [Fact]
    public void The_open_file_cap_is_validated()
    {
        Assert.Throws<ArgumentException>(() => new BlockCacheOptions { Path = "x", SizeBytes = 1, MaxOpenFiles = -1 }.Validate());
        new BlockCacheOptions { Path = "x", SizeBytes = 1, MaxOpenFiles = 0 }.Validate();
    }
}
