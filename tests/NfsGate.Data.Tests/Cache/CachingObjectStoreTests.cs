using NfsGate.Data;
using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

public sealed class CachingObjectStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-cache-").FullName;
    private readonly CountingStore _inner = new();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private CachingObjectStore Open(long sizeBytes = 64 << 20, IObjectStore? inner = null, int segmentSize = 64 << 10, Func<double>? freeRatio = null) =>
        new(inner ?? _inner, new BlockCacheOptions
        {
            Path = _dir,
            SizeBytes = sizeBytes,
            SegmentSize = segmentSize,
            FreeSpaceRatio = freeRatio ?? (() => 0.5),
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

    private string[] CacheFiles() =>
        Directory.EnumerateFiles(Path.Combine(_dir, "data"), "*", SearchOption.AllDirectories).ToArray();

    private long CacheFileBytes() => CacheFiles().Sum(f => new FileInfo(f).Length);

    [Fact]
    public void A_miss_starts_its_fetch_off_the_reading_thread()
    {
        // A connection's receive thread answers READs itself: it must not pay for the inner store's synchronous
        // start of a GET (building and signing an S3 request), so the fetch is started on the pool.
        _inner.Seed("k", Data(1000, 1));
        var cache = Open();
        int reader = 0;
        var thread = new Thread(() =>
        {
            reader = Environment.CurrentManagedThreadId;
            var buf = new byte[1000];
            Assert.Equal(1000, cache.GetAsync("k", 0, buf).AsTask().GetAwaiter().GetResult());
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, _inner.Gets);
        Assert.NotEqual(reader, _inner.LastGetThread);
        cache.SettleAsync().Wait(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_miss_fetches_the_whole_object_once_then_reads_hit()
    {
        var data = Data(300_000, 1);
        _inner.Seed("chunks/0/0/1_0_300000", data);
        var cache = Open();

        Assert.Equal(data[1000..5096], await Read(cache, "chunks/0/0/1_0_300000", 1000, 4096));
        Assert.Equal((1, 0, 1), (cache.Counters.Misses, cache.Counters.Hits, cache.Counters.InnerFetches));

        Assert.Equal(data[200_000..], await Read(cache, "chunks/0/0/1_0_300000", 200_000, 200_000));
        Assert.Equal(data, await Read(cache, "chunks/0/0/1_0_300000", 0, 300_000));
        Assert.Equal((1, 2, 1), (cache.Counters.Misses, cache.Counters.Hits, cache.Counters.InnerFetches));
        Assert.Equal(1, _inner.Gets);
        Assert.Equal(1, cache.Counters.Entries);
        Assert.Equal(CacheFileBytes(), cache.Counters.BytesCached);
        Assert.Equal(300_000, await cache.HeadAsync("chunks/0/0/1_0_300000"));
        Assert.Equal(0, _inner.Heads); // answered from the index
    }

    [Fact]
    public async Task Put_writes_through_and_the_data_is_hot()
    {
        var cache = Open();
        var data = Data(5000, 2);
        await cache.PutAsync("k", data);
        Assert.True(_inner.Contains("k"));
        Assert.True(await cache.IsCachedAsync("k"));
        Assert.Equal(data, await Read(cache, "k", 0, 5000));
        Assert.Equal((0, 1, 0), (cache.Counters.Misses, cache.Counters.Hits, _inner.Gets));
    }

    [Fact]
    public async Task A_put_that_fails_leaves_no_cached_copy_though_the_file_was_written_alongside()
    {
        var cache = Open();
        var gate = new TaskCompletionSource();
        _inner.PutGate = gate.Task;
        _inner.PutFailure = new ObjectStoreException("store down");
        var put = cache.PutAsync("k", Data(5000, 3)).AsTask();
        // The cache file is written while the upload is held: the copy exists before the upload answers...
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await cache.IsCachedAsync("k") && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.True(await cache.IsCachedAsync("k"));
        gate.SetResult();
        await Assert.ThrowsAsync<ObjectStoreException>(() => put);
        // ...and goes with the failure: a later read must not be served bytes the store never took.
        Assert.False(await cache.IsCachedAsync("k"));
        Assert.Equal(0, cache.Counters.Entries);
        Assert.False(_inner.Contains("k"));
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_cause_one_inner_fetch()
    {
        var data = Data(1 << 20, 3);
        _inner.Seed("hot", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Gate = gate.Task;
        var cache = Open();

        var readers = Enumerable.Range(0, 100).Select(i => Task.Run(() => Read(cache, "hot", i * 1000, 4096))).ToArray();
        await _inner.FirstGet.Task.WaitAsync(TimeSpan.FromSeconds(30));
        gate.SetResult(); // readers that have not looked up yet find either the fetch in flight or the cached file
        var results = await Task.WhenAll(readers);

        for (int i = 0; i < 100; i++) Assert.Equal(data.AsSpan(i * 1000, 4096).ToArray(), results[i]);
        Assert.Equal(1, _inner.Gets);
        Assert.Equal(1, cache.Counters.InnerFetches);
        Assert.Equal(100, cache.Counters.Hits + cache.Counters.Misses);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_does_not_cancel_the_fetch_for_the_others()
    {
        _inner.Seed("k", Data(10_000, 4));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Gate = gate.Task;
        var cache = Open();
        using var cts = new CancellationTokenSource();
        var first = cache.GetAsync("k", 0, new byte[10], cts.Token).AsTask();
        await _inner.FirstGet.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = Read(cache, "k", 0, 10_000);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        gate.SetResult();
        Assert.Equal(Data(10_000, 4), await second);
        Assert.Equal(1, _inner.Gets);
        Assert.True(await cache.IsCachedAsync("k"));
    }

    [Fact]
    public async Task Eviction_keeps_the_cache_under_its_cap()
    {
        const long cap = 100_000;
        var cache = Open(sizeBytes: cap);
        for (int i = 0; i < 60; i++)
        {
            var key = $"chunks/0/0/{i}_0_7000";
            _inner.Seed(key, Data(7000, i));
            Assert.Equal(Data(7000, i)[..100], await Read(cache, key, 0, 100));
            if (i % 3 == 0) await cache.PutAsync($"w/{i}", Data(9000, 1000 + i));
            Assert.InRange(cache.Counters.BytesCached, 0, cap);
            Assert.InRange(CacheFileBytes(), 0, cap);
        }
        Assert.True(cache.Counters.Evictions > 0);
        Assert.Equal(cache.Counters.Entries, CacheFiles().Length);
        Assert.Equal(CacheFileBytes(), cache.Counters.BytesCached);
    }

    [Fact]
    public async Task A_one_off_scan_larger_than_the_cache_does_not_flush_a_hot_object()
    {
        // Room for about ten 4000-byte objects. Under LRU the scan of 200 would push "hot" out.
        var cache = Open(sizeBytes: 41_000);
        _inner.Seed("hot", Data(4000, 5));
        for (int i = 0; i < 4; i++) Assert.Equal(Data(4000, 5), await Read(cache, "hot", 0, 4000));

        for (int i = 0; i < 200; i++)
        {
            _inner.Seed($"cold/{i}", Data(4000, 100 + i));
            Assert.Equal(Data(4000, 100 + i), await Read(cache, $"cold/{i}", 0, 4000));
        }

        Assert.True(await cache.IsCachedAsync("hot"));
        long fetches = cache.Counters.InnerFetches;
        Assert.Equal(Data(4000, 5), await Read(cache, "hot", 0, 4000));
        Assert.Equal(fetches, cache.Counters.InnerFetches);
        Assert.Equal(201, fetches);
        Assert.InRange(cache.Counters.BytesCached, 0, 41_000);
    }

    [Fact]
    public async Task Sequential_reads_through_one_object_count_as_one_access()
    {
        // A scan that reads each object in four sequential pieces (NFS READs of 1 MiB in a 4 MiB block) is still
        // a one-off scan.
        var cache = Open(sizeBytes: 41_000);
        _inner.Seed("hot", Data(4000, 5));
        for (int i = 0; i < 4; i++) await Read(cache, "hot", 0, 4000);
        for (int i = 0; i < 200; i++)
        {
            _inner.Seed($"cold/{i}", Data(4000, 100 + i));
            for (int part = 0; part < 4; part++) Assert.Equal(Data(4000, 100 + i)[(part * 1000)..((part + 1) * 1000)], await Read(cache, $"cold/{i}", part * 1000, 1000));
        }
        Assert.True(await cache.IsCachedAsync("hot"));
    }

    [Fact]
    public async Task A_corrupt_cache_file_is_detected_dropped_and_refetched()
    {
        var data = Data(200_000, 6);
        _inner.Seed("k", data);
        var cache = Open();
        await Read(cache, "k", 0, 10);
        var file = Assert.Single(CacheFiles());

        // Flip one bit near the end of the data, far from the range read next.
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = fs.Length - 7;
            int b = fs.ReadByte();
            fs.Position = fs.Length - 7;
            fs.WriteByte((byte)(b ^ 0x10));
        }

        Assert.Equal(data[150_000..], await Read(cache, "k", 150_000, 100_000));
        Assert.Equal(1, cache.Counters.ChecksumFailures);
        Assert.Equal(2, cache.Counters.InnerFetches);
        Assert.False(File.Exists(file));
        var replacement = Assert.Single(CacheFiles());
        Assert.NotEqual(file, replacement);

        Assert.Equal(data, await Read(cache, "k", 0, 200_000)); // the fresh copy is good
        Assert.Equal(1, cache.Counters.ChecksumFailures);
        Assert.Equal(2, cache.Counters.InnerFetches);
    }

    [Fact]
    public async Task A_read_that_misses_the_corrupt_segment_still_verifies_what_it_reads()
    {
        var data = Data(200_000, 7);
        _inner.Seed("k", data);
        var cache = Open(segmentSize: 4096);
        await Read(cache, "k", 0, 10);
        var file = Assert.Single(CacheFiles());
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 1; // last segment only
        File.WriteAllBytes(file, bytes);

        Assert.Equal(data[..4096], await Read(cache, "k", 0, 4096)); // untouched segment: a hit
        Assert.Equal(0, cache.Counters.ChecksumFailures);
        Assert.Equal(data[^10..], await Read(cache, "k", data.Length - 10, 100));
        Assert.Equal(1, cache.Counters.ChecksumFailures);
    }

    [Fact]
    public async Task After_a_restart_the_cache_is_warm()
    {
        var cache = Open();
        await cache.PutAsync("a", Data(3000, 8));
        _inner.Seed("b", Data(70_000, 9));
        await Read(cache, "b", 0, 1);

        // A new instance over an EMPTY inner store: anything not served from disk would throw not-found.
        var again = Open(inner: new CountingStore());
        Assert.Equal(2, again.Counters.Entries);
        Assert.Equal(Data(3000, 8), await Read(again, "a", 0, 3000));
        Assert.Equal(Data(70_000, 9)[60_000..], await Read(again, "b", 60_000, 20_000));
        Assert.Equal((2, 0, 0), (again.Counters.Hits, again.Counters.Misses, again.Counters.InnerFetches));
        Assert.Equal(CacheFileBytes(), again.Counters.BytesCached);
    }

    [Fact]
    public async Task A_restart_with_a_smaller_cap_evicts_down_to_it_and_drops_junk()
    {
        var cache = Open();
        var files = new string[10];
        for (int i = 0; i < 10; i++)
        {
            await cache.PutAsync($"o/{i}", Data(10_000, i));
            files[i] = Assert.Single(CacheFiles().Except(files));
            // The rebuild orders by write time; file systems keep it at a coarse grain, so spell the order out.
            File.SetLastWriteTimeUtc(files[i], new DateTime(2026, 1, 1, 0, 0, i, DateTimeKind.Utc));
        }
        // What a crash can leave: a torn file, an empty one, a temp file.
        File.WriteAllBytes(files[0], File.ReadAllBytes(files[0])[..5000]);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(files[1])!, "junk"), []);
        File.WriteAllBytes(Path.Combine(_dir, "tmp", "half-written"), Data(100, 1));

        var again = Open(sizeBytes: 45_000, inner: new CountingStore());
        Assert.Equal(4, again.Counters.Entries);
        Assert.InRange(again.Counters.BytesCached, 0, 45_000);
        Assert.Equal(again.Counters.BytesCached, CacheFileBytes());
        Assert.Equal(4, CacheFiles().Length);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir, "tmp")));
        // Oldest out first: the four newest survive.
        for (int i = 6; i < 10; i++) Assert.True(await again.IsCachedAsync($"o/{i}"));
    }

    [Fact]
    public async Task A_corrupt_header_is_dropped_at_startup()
    {
        var cache = Open();
        await cache.PutAsync("k", Data(3000, 1));
        var file = Assert.Single(CacheFiles());
        var bytes = File.ReadAllBytes(file);
        bytes[25] ^= 0xff; // inside the key
        File.WriteAllBytes(file, bytes);

        var again = Open();
        Assert.Equal(0, again.Counters.Entries);
        Assert.Empty(CacheFiles());
        Assert.Equal(Data(3000, 1), await Read(again, "k", 0, 3000)); // from the inner store
        Assert.Equal(1, again.Counters.Misses);
    }

    [Theory]
    [InlineData(64 << 10)]
    [InlineData(512)]
    public async Task Ranged_reads_return_exactly_the_asked_bytes(int segmentSize)
    {
        var data = Data(10_000, 10);
        _inner.Seed("r", data);
        var cache = Open(segmentSize: segmentSize);
        var rnd = new Random(11);
        var ranges = new List<(long Offset, int Length)> { (0, 10_000), (0, 20_000), (9_999, 1), (9_999, 10), (10_000, 5), (12_345, 5), (511, 2), (512, 512), (1, 1024), (0, 0) };
        for (int i = 0; i < 200; i++) ranges.Add((rnd.Next(0, 10_500), rnd.Next(0, 3000)));
        int n = 0;
        foreach (var (offset, length) in ranges)
        {
            if (n++ % 3 == 0) cache.Evict("r"); // exercise the miss path too
            var got = await Read(cache, "r", offset, length);
            var expected = offset >= data.Length ? [] : data.AsSpan((int)offset, (int)Math.Min(length, data.Length - offset)).ToArray();
            Assert.Equal(expected, got);
        }
        Assert.True(cache.Counters.Hits > 0);
        Assert.True(cache.Counters.Misses > 0);
        Assert.Equal(0, cache.Counters.ChecksumFailures);
    }

    [Fact]
    public async Task An_inner_failure_reaches_every_waiter_and_nothing_is_cached()
    {
        _inner.Seed("k", Data(5000, 12));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Gate = gate.Task;
        _inner.GetFailure = new ObjectStoreException("backend down");
        var cache = Open();

        var readers = Enumerable.Range(0, 10).Select(_ => Task.Run(() => Read(cache, "k", 0, 100))).ToArray();
        await _inner.FirstGet.Task.WaitAsync(TimeSpan.FromSeconds(30));
        gate.SetResult();
        foreach (var r in readers) await Assert.ThrowsAsync<ObjectStoreException>(() => r);
        Assert.False(await cache.IsCachedAsync("k"));
        Assert.Empty(CacheFiles());
        Assert.Equal(0, cache.Counters.Entries);

        _inner.GetFailure = null; // the failure is not remembered either
        Assert.Equal(Data(5000, 12)[..100], await Read(cache, "k", 0, 100));
        Assert.True(await cache.IsCachedAsync("k"));
    }

    [Fact]
    public async Task Missing_objects_are_not_found_and_not_cached()
    {
        var cache = Open();
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await cache.GetAsync("nope", 0, new byte[10]));
        Assert.Null(await cache.HeadAsync("nope"));
        Assert.Empty(CacheFiles());
    }

    [Fact]
    public async Task Delete_removes_from_the_cache_and_the_inner_store()
    {
        var cache = Open();
        await cache.PutAsync("k", Data(100, 1));
        await cache.DeleteAsync("k");
        Assert.False(_inner.Contains("k"));
        Assert.False(await cache.IsCachedAsync("k"));
        Assert.Empty(CacheFiles());
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await cache.GetAsync("k", 0, new byte[10]));
        await cache.DeleteAsync("k"); // idempotent
    }

    [Fact]
    public async Task Overwriting_through_the_cache_replaces_the_cached_copy()
    {
        var cache = Open();
        await cache.PutAsync("k", Data(5000, 1));
        await cache.PutAsync("k", Data(100, 2));
        Assert.Equal(Data(100, 2), await Read(cache, "k", 0, 5000));
        Assert.Single(CacheFiles());
    }

    [Fact]
    public async Task Objects_larger_than_the_limit_bypass_the_cache()
    {
        var cache = new CachingObjectStore(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = 1 << 20, MaxObjectSize = 1000, FreeSpaceRatio = () => 0.5 });
        var big = Data(5000, 13);
        await cache.PutAsync("big", big);
        Assert.False(await cache.IsCachedAsync("big"));
        Assert.Equal(big[1000..3000], await Read(cache, "big", 1000, 2000));
        Assert.Equal(big[4000..], await Read(cache, "big", 4000, 2000)); // beyond the limit: straight to the inner store
        Assert.False(await cache.IsCachedAsync("big"));
        Assert.Empty(CacheFiles());

        var exact = Data(1000, 14); // exactly at the limit: cached
        _inner.Seed("exact", exact);
        Assert.Equal(exact, await Read(cache, "exact", 0, 1000));
        Assert.True(await cache.IsCachedAsync("exact"));
    }

    [Fact]
    public async Task Low_free_space_stops_caching_and_gives_space_back()
    {
        double free = 0.5;
        var cache = Open(freeRatio: () => free);
        await cache.PutAsync("a", Data(10_000, 1));
        await cache.PutAsync("b", Data(10_000, 2));
        Assert.Equal(2, cache.Counters.Entries);

        free = 0.05; // below the default 10%
        await cache.PutAsync("c", Data(10_000, 3));
        Assert.True(_inner.Contains("c"));
        Assert.False(await cache.IsCachedAsync("c"));
        Assert.Equal(1, cache.Counters.SkippedForSpace);
        Assert.Equal(1, cache.Counters.Entries); // one object's worth given back
        Assert.Equal(1, cache.Counters.Evictions);
        Assert.Equal(Data(10_000, 3), await Read(cache, "c", 0, 10_000)); // still served, from the inner store

        free = 0.5;
        await cache.PutAsync("d", Data(10_000, 4));
        Assert.True(await cache.IsCachedAsync("d"));
    }

    [Fact]
    public async Task A_cache_that_cannot_write_still_serves_everything()
    {
        var cache = Open();
        // Replace the temp directory by a file: every cache write now fails.
        Directory.Delete(Path.Combine(_dir, "tmp"));
        File.WriteAllBytes(Path.Combine(_dir, "tmp"), []);

        await cache.PutAsync("k", Data(1000, 1));
        Assert.True(_inner.Contains("k"));
        Assert.False(await cache.IsCachedAsync("k"));
        _inner.Seed("m", Data(2000, 2));
        Assert.Equal(Data(2000, 2), await Read(cache, "m", 0, 2000));
        Assert.Equal(2, cache.Counters.IoErrors);
        Assert.Equal(0, cache.Counters.Entries);
    }

    [Fact]
    public async Task Prefetch_IsCached_and_Evict()
    {
        _inner.Seed("k", Data(8000, 15));
        var cache = Open();
        Assert.False(await cache.IsCachedAsync("k"));
        await cache.PrefetchAsync("k");
        Assert.True(await cache.IsCachedAsync("k"));
        await cache.PrefetchAsync("k"); // already there: no second fetch
        Assert.Equal(1, cache.Counters.InnerFetches);
        Assert.Equal((0, 0), (cache.Counters.Hits, cache.Counters.Misses));

        Assert.Equal(Data(8000, 15), await Read(cache, "k", 0, 8000));
        Assert.Equal(1, cache.Counters.Hits);

        Assert.True(cache.Evict("k"));
        Assert.False(cache.Evict("k"));
        Assert.False(await cache.IsCachedAsync("k"));
        Assert.True(_inner.Contains("k"));
        Assert.Empty(CacheFiles());
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => cache.PrefetchAsync("absent"));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new CachingObjectStore(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = 0 }));
        Assert.Throws<ArgumentException>(() => new CachingObjectStore(_inner, new BlockCacheOptions { Path = _dir, SizeBytes = 1, MinFreeRatio = 1 }));
        Assert.Throws<ArgumentException>(() => new CachingObjectStore(_inner, new BlockCacheOptions { Path = "", SizeBytes = 1 }));
    }
}
