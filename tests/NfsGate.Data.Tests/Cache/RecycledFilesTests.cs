using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

/// <summary>
/// Files of evicted entries are kept and overwritten by later fills (RecycledFiles): the bytes must always be the new
/// object's, the file must end where the new object ends, kept files count against the cap, and a read that was
/// running on a file when it was recycled must be retried without being taken for disk corruption.
/// </summary>
public sealed class RecycledFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-recycle-").FullName;
    private readonly CountingStore _inner = new();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private CachingObjectStore Open(long sizeBytes = 64 << 20) =>
        new(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = sizeBytes, SegmentSize = 16 << 10, FreeSpaceRatio = () => 0.5 });

    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static async Task<byte[]> Read(CachingObjectStore s, string key, int length)
    {
        var buf = new byte[length];
        int n = await s.GetAsync(key, 0, buf);
        await s.SettleAsync();
        return buf[..n];
    }

    private string[] Files(string sub) => Directory.EnumerateFiles(Path.Combine(_dir, sub), "*", SearchOption.AllDirectories).ToArray();

    // Kept files become reusable after a quarantine; waiting it out is not a timing assertion.
    private static void PastQuarantine() => Thread.Sleep(RecycledFiles.QuarantineMs + 100);

    [Fact]
    public async Task An_evicted_entrys_file_is_written_over_by_the_next_fill()
    {
        var cache = Open();
        var a = Data(100_000, 1);
        var b = Data(100_000, 2);
        await cache.PutAsync("a", a);
        Assert.True(cache.Evict("a"));
        Assert.Empty(Files("data"));
        Assert.Single(Files("tmp")); // kept, not deleted
        PastQuarantine();

        await cache.PutAsync("b", b);

        Assert.Equal(1, cache.Counters.RecycledFills);
        Assert.Empty(Files("tmp"));
        Assert.Single(Files("data"));
        int gets = _inner.Gets;
        Assert.Equal(b, await Read(cache, "b", b.Length));
        Assert.Equal(gets, _inner.Gets); // a hit on the rewritten file
    }

    [Fact]
    public async Task A_longer_kept_file_is_cut_to_the_new_objects_length_and_survives_a_restart()
    {
        var cache = Open();
        await cache.PutAsync("big", Data(300_000, 3));
        cache.Evict("big");
        PastQuarantine();
        var small = Data(50_000, 4);
        await cache.PutAsync("small", small);
        Assert.Equal(1, cache.Counters.RecycledFills);

        // A restart indexes only files whose length is exactly header + data: a tail of the old object would drop it.
        var reopened = Open();
        Assert.Equal(1, reopened.Counters.Entries);
        int gets = _inner.Gets;
        Assert.Equal(small, await Read(reopened, "small", small.Length));
        Assert.Equal(gets, _inner.Gets);
        Assert.Equal(0, reopened.Counters.ChecksumFailures);
    }

    [Fact]
    public async Task Kept_files_and_indexed_ones_stay_under_the_cap_together()
    {
        long cap = 350_000; // three 100 KB objects with their headers
        var cache = Open(cap);
        for (int i = 0; i < 3; i++) await cache.PutAsync($"k{i}", Data(100_000, i));
        for (int i = 0; i < 3; i++) cache.Evict($"k{i}");
        Assert.Equal(3, cache.Recycled.Count);
        // Within the quarantine nothing is reused: new files are created, and kept ones are deleted to make room.
        for (int i = 3; i < 6; i++)
        {
            await cache.PutAsync($"k{i}", Data(100_000, i));
            Assert.True(cache.Recycled.Bytes + cache.Counters.BytesCached <= cap);
        }
        Assert.Equal(0, cache.Counters.RecycledFills);
        Assert.Equal(Files("data").Sum(f => new FileInfo(f).Length) + cache.Recycled.Bytes, Files("data").Concat(Files("tmp")).Sum(f => new FileInfo(f).Length));
        Assert.True(Files("data").Concat(Files("tmp")).Sum(f => new FileInfo(f).Length) <= cap);
    }

    [Fact]
    public async Task A_file_that_failed_a_read_is_deleted_not_kept()
    {
        var cache = Open();
        var a = Data(100_000, 5);
        await cache.PutAsync("a", a);
        var file = Files("data").Single();
        using (var f = File.OpenWrite(file))
        {
            f.Seek(-10, SeekOrigin.End);
            f.Write(new byte[10]); // corrupt the last segment
        }
        Assert.Equal(a, await Read(cache, "a", a.Length)); // served from the inner store
        Assert.Equal(1, cache.Counters.ChecksumFailures);
        Assert.Equal(0, cache.Recycled.Count);
        Assert.Empty(Files("tmp"));
    }

    [Fact]
    public async Task A_read_racing_the_reuse_of_its_file_is_retried_and_not_counted_as_corruption()
    {
        var cache = Open();
        var a = Data(100_000, 6);
        var b = Data(100_000, 7);
        _inner.Seed("a", a);
        await cache.PutAsync("a", a);
        int raced = 0;
        // With a's handle in hand, a is evicted and its file reused for b before the read starts.
        cache.BeforeCachedRead = key =>
        {
            if (key != "a" || Interlocked.Exchange(ref raced, 1) != 0) return;
            cache.Evict("a");
            PastQuarantine();
            cache.PutAsync("b", b).AsTask().GetAwaiter().GetResult();
        };

        Assert.Equal(a, await Read(cache, "a", a.Length));

        Assert.Equal(1, raced);
        Assert.Equal(1, cache.Counters.RecycledFills); // the read really ran over b's bytes
        Assert.Equal(0, cache.Counters.ChecksumFailures);
        Assert.Equal(b, await Read(cache, "b", b.Length));
    }

    [Fact]
    public async Task Kept_files_are_deleted_at_start_up()
    {
        var cache = Open();
        await cache.PutAsync("a", Data(100_000, 8));
        cache.Evict("a");
        Assert.Single(Files("tmp"));
        _ = Open();
        Assert.Empty(Files("tmp"));
    }
}
