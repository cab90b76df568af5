using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

/// <summary>
/// A miss is answered from the fetched bytes before the cache file is written, and the fill keeps single-flight:
/// readers arriving while the file is written are served from the same buffer, which goes back to the pool once
/// the fill and every reader are done. The cache calls <see cref="BlockCacheOptions.FreeSpaceRatio"/> first thing
/// when it writes a file, so holding that callback holds the fill.
/// </summary>
public sealed class FillAfterAnswerTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-cache-fill-").FullName;
    private readonly CountingStore _inner = new();
    private readonly ManualResetEventSlim _fillStarted = new(), _fillGo = new();

    public void Dispose()
    {
        _fillGo.Set(); // never leave a pool thread parked in the callback
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private CachingObjectStore Open(bool holdFills) =>
        new(_inner, new BlockCacheOptions
        {
            Path = _dir,
            SizeBytes = 64 << 20,
            FreeSpaceRatio = () =>
            {
                if (!holdFills) return 0.5;
                _fillStarted.Set();
                _fillGo.Wait(); // Dispose sets it, so a failed test cannot leave the pool thread parked
                return 0.5;
            },
        });

    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public async Task A_miss_is_answered_while_its_cache_file_is_still_being_written()
    {
        var data = Data(1 << 20, 1);
        _inner.Seed("k", data);
        var cache = Open(holdFills: true);

        var buf = new byte[4096];
        // Started on the pool, so a fill that ran on the reader's own thread fails here instead of hanging the test.
        var first = Task.Run(() => cache.GetAsync("k", 1000, buf).AsTask());
        Assert.True(_fillStarted.Wait(Patience));
        Assert.Same(first, await Task.WhenAny(first, Task.Delay(Patience))); // not waiting for the disk write
        Assert.Equal(4096, await first);
        Assert.Equal(data[1000..5096], buf);
        Assert.False(cache.IsCached("k"));

        // A reader arriving during the fill joins it: served from the fetched bytes, no second inner GET, a hit.
        var second = new byte[100_000];
        Assert.Equal(100_000, await cache.GetAsync("k", 900_000, second).AsTask().WaitAsync(Patience));
        Assert.Equal(data[900_000..1_000_000], second);
        Assert.Equal((1, 1L, 1L), (_inner.Gets, cache.Counters.Misses, cache.Counters.Hits));

        _fillGo.Set();
        await cache.SettleAsync().WaitAsync(Patience);
        Assert.True(cache.IsCached("k"));
        Assert.Equal(data[..10], (await ReadAsync(cache, "k", 0, 10)));
        Assert.Equal((1, 1L, 2L), (_inner.Gets, cache.Counters.Misses, cache.Counters.Hits));
    }

    [Fact]
    public async Task A_prefetch_for_read_ahead_ends_when_the_bytes_arrive_a_full_prefetch_when_the_file_is_written()
    {
        _inner.Seed("k", Data(300_000, 2));
        var cache = Open(holdFills: true);

        await Task.Run(() => cache.PrefetchAsync("k", untilCached: false)).WaitAsync(Patience);
        Assert.True(_fillStarted.Wait(Patience));
        var full = cache.PrefetchAsync("k");
        Assert.False(full.IsCompleted);
        Assert.False(cache.IsCached("k"));

        _fillGo.Set();
        await full.WaitAsync(Patience);
        Assert.True(cache.IsCached("k"));
        Assert.Equal(1, _inner.Gets);
    }

    [Fact]
    public async Task Fetch_buffers_come_back_after_the_fill_and_the_last_reader_even_when_readers_give_up()
    {
        var cache = Open(holdFills: false);
        for (int i = 0; i < 20; i++)
        {
            _inner.Seed($"k{i}", Data(200_000, i));
            Assert.Equal(Data(200_000, i)[5..50], await ReadAsync(cache, $"k{i}", 5, 45));
        }
        await cache.SettleAsync();
        Assert.Equal(1, cache.FetchBuffersKept); // one buffer, reused by every miss in turn: none kept by a reader

        // Many readers of one cold key, a third of them giving up before the bytes arrive.
        var data = Data(1 << 20, 99);
        _inner.Seed("hot", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Gate = gate.Task;
        using var cts = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            var b = new byte[1000];
            int n = await cache.GetAsync("hot", i * 1000, b, i % 3 == 0 ? cts.Token : default);
            return (i, n, b);
        })).ToArray();
        await _inner.FirstGet.Task.WaitAsync(Patience);
        cts.Cancel();
        gate.SetResult();
        foreach (var r in readers)
        {
            try
            {
                var (i, n, b) = await r;
                Assert.Equal(1000, n);
                Assert.Equal(data.AsSpan(i * 1000, 1000).ToArray(), b);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await cache.SettleAsync();
        Assert.Equal(21, _inner.Gets);
        Assert.Equal(1, cache.FetchBuffersKept);
    }

    private static async Task<byte[]> ReadAsync(CachingObjectStore s, string key, long offset, int length)
    {
        var buf = new byte[length];
        int n = await s.GetAsync(key, offset, buf);
        await s.SettleAsync();
        return buf[..n];
    }
}
