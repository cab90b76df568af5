using System.Text;
using NfsGate.Data;

namespace NfsGate.Data.Tests.ObjectStore;

/// <summary>
/// What every <see cref="IObjectStore"/> must do (JuiceFS testStorage). Subclass with a factory per implementation;
/// each test gets a fresh, empty store.
/// </summary>
public abstract class ObjectStoreContract
{
    /// <summary>A new, empty store.</summary>
    protected abstract IObjectStore Create();

    protected static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    protected static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    protected static async Task<byte[]> GetAll(IObjectStore s, string key)
    {
        var size = await s.HeadAsync(key) ?? throw new ObjectNotFoundException(key);
        var buf = new byte[size];
        int n = await s.GetAsync(key, 0, buf);
        Assert.Equal(size, n);
        return buf;
    }

    protected static async Task<List<(string Key, long Size)>> List(IObjectStore s, string prefix)
    {
        var all = new List<(string, long)>();
        await foreach (var item in s.ListAsync(prefix)) all.Add(item);
        return all;
    }

    [Fact]
    public async Task Put_then_get_whole()
    {
        var s = Create();
        await s.PutAsync("blocks/1", B("hello world"));
        Assert.Equal("hello world", Encoding.UTF8.GetString(await GetAll(s, "blocks/1")));
        Assert.Equal(11, await s.HeadAsync("blocks/1"));
    }

    [Fact]
    public async Task Ranged_gets_stop_at_the_end_of_the_object()
    {
        var s = Create();
        var data = Random(1000, 1);
        await s.PutAsync("r", data);

        var buf = new byte[100];
        Assert.Equal(100, await s.GetAsync("r", 250, buf));
        Assert.Equal(data[250..350], buf);

        // Reaching past the end: only what exists, at the start of the buffer.
        Array.Clear(buf);
        Assert.Equal(50, await s.GetAsync("r", 950, buf));
        Assert.Equal(data[950..], buf[..50]);
        Assert.All(buf[50..], b => Assert.Equal(0, b));

        Assert.Equal(0, await s.GetAsync("r", 1000, buf));     // offset at the end
        Assert.Equal(0, await s.GetAsync("r", 5000, buf));     // offset beyond the end
        Assert.Equal(0, await s.GetAsync("r", 10, Memory<byte>.Empty)); // zero length
        Assert.Equal(1, await s.GetAsync("r", 999, buf.AsMemory(0, 1)));
        Assert.Equal(data[999], buf[0]);
    }

    [Fact]
    public async Task Missing_objects()
    {
        var s = Create();
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await s.GetAsync("nope", 0, new byte[10]));
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await s.GetAsync("no/such/dir", 0, new byte[10]));
        Assert.Null(await s.HeadAsync("nope"));
        Assert.Empty(await List(s, "nope"));
    }

    [Fact]
    public async Task A_prefix_of_other_keys_is_not_an_object()
    {
        var s = Create();
        await s.PutAsync("dir/child", B("x"));
        Assert.Null(await s.HeadAsync("dir"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await s.GetAsync("dir", 0, new byte[1]));
        await s.DeleteAsync("dir");
        Assert.Equal(1, await s.HeadAsync("dir/child"));
    }

    [Fact]
    public async Task Negative_offset_is_rejected()
    {
        var s = Create();
        await s.PutAsync("k", B("x"));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.GetAsync("k", -1, new byte[1]));
    }

    [Fact]
    public async Task Empty_object()
    {
        var s = Create();
        await s.PutAsync("empty", ReadOnlyMemory<byte>.Empty);
        Assert.Equal(0, await s.HeadAsync("empty"));
        Assert.Equal(0, await s.GetAsync("empty", 0, new byte[10]));
        Assert.Equal([("empty", 0L)], await List(s, ""));
    }

    [Fact]
    public async Task Overwrite_replaces_the_whole_object()
    {
        var s = Create();
        await s.PutAsync("o", Random(5000, 2));
        var shorter = Random(10, 3);
        await s.PutAsync("o", shorter);
        Assert.Equal(10, await s.HeadAsync("o"));
        Assert.Equal(shorter, await GetAll(s, "o"));
        var buf = new byte[100];
        Assert.Equal(10, await s.GetAsync("o", 0, buf)); // no stale tail from the longer version
    }

    [Fact]
    public async Task Readers_never_see_a_partial_object_during_overwrites()
    {
        var s = Create();
        var small = Enumerable.Repeat((byte)0x11, 256 << 10).ToArray();
        var large = Enumerable.Repeat((byte)0x22, 512 << 10).ToArray();
        await s.PutAsync("o", small);
        using var done = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < 30; i++) await s.PutAsync("o", i % 2 == 0 ? large : small);
            }
            finally
            {
                done.Cancel();
            }
        });
        var buf = new byte[1 << 20];
        int reads = 0;
        while (!done.IsCancellationRequested || reads == 0)
        {
            int n;
            // Taken before the GET: its retries can outlast the writer, and a GET that began while overwrites were
            // running may fail for them even if the writer finished before the last attempt (seen once in CI).
            bool racing = !done.IsCancellationRequested;
            try
            {
                n = await s.GetAsync("o", 0, buf);
            }
            catch (ObjectStoreException e) when (e is not ObjectNotFoundException && racing)
            {
                // Ceph RGW now and then answers 500 to a GET racing an overwrite of the same key, even after the
                // store's retries (seen twice in CI). An error is not a partial object, which is what this checks;
                // the data path never overwrites a key anyway. A read begun after the writer was done must succeed.
                continue;
            }
            CheckWhole(n);
            reads++;
        }
        await writer;
        CheckWhole(await s.GetAsync("o", 0, buf));

        void CheckWhole(int n)
        {
            byte expected = n == small.Length ? (byte)0x11 : n == large.Length ? (byte)0x22 : (byte)0;
            Assert.True(expected != 0, $"read {n} bytes: neither version's length");
            Assert.True(buf.AsSpan(0, n).IndexOfAnyExcept(expected) < 0, "mixed or partial content");
        }
    }

    [Fact]
    public async Task Delete_is_idempotent()
    {
        var s = Create();
        await s.PutAsync("d/1", B("x"));
        await s.DeleteAsync("d/1");
        Assert.Null(await s.HeadAsync("d/1"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await s.GetAsync("d/1", 0, new byte[1]));
        await s.DeleteAsync("d/1");
        await s.DeleteAsync("never/existed/at/all");
        Assert.Empty(await List(s, "d/"));
        await s.PutAsync("d/1", B("again")); // a deleted key can be written again
        Assert.Equal(5, await s.HeadAsync("d/1"));
    }

    [Fact]
    public async Task List_returns_keys_under_a_prefix_in_key_order_with_sizes()
    {
        var s = Create();
        string[] keys = ["a/2", "a/10", "a/1", "a.b", "a/b/c", "ab", "b/1", "a/b/.dot"];
        for (int i = 0; i < keys.Length; i++) await s.PutAsync(keys[i], new byte[i + 1]);
        long SizeOf(string k) => Array.IndexOf(keys, k) + 1;

        var all = await List(s, "");
        Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), all.Select(x => x.Key));
        Assert.All(all, x => Assert.Equal(SizeOf(x.Key), x.Size));

        Assert.Equal(["a/1", "a/10", "a/2", "a/b/.dot", "a/b/c"], (await List(s, "a/")).Select(x => x.Key));
        Assert.Equal(["a.b", "a/1", "a/10", "a/2", "a/b/.dot", "a/b/c", "ab"], (await List(s, "a")).Select(x => x.Key));
        Assert.Equal(["a/1", "a/10"], (await List(s, "a/1")).Select(x => x.Key));
        Assert.Equal(["a/b/.dot", "a/b/c"], (await List(s, "a/b")).Select(x => x.Key));
        Assert.Equal(["b/1"], (await List(s, "b/")).Select(x => x.Key));
        Assert.Empty(await List(s, "zzz/"));
        Assert.Empty(await List(s, "a/3"));
    }

    [Fact]
    public async Task Large_object_round_trips_whole_and_ranged()
    {
        var s = Create();
        var data = Random(8 << 20, 4);
        await s.PutAsync("big", data);
        Assert.Equal(data.Length, await s.HeadAsync("big"));
        Assert.Equal(data, await GetAll(s, "big"));
        var buf = new byte[1 << 20];
        Assert.Equal(buf.Length, await s.GetAsync("big", (4 << 20) - 123, buf));
        Assert.Equal(data.AsSpan((4 << 20) - 123, buf.Length).ToArray(), buf);
    }

    [Fact]
    public async Task Concurrent_puts_of_different_keys()
    {
        var s = Create();
        const int n = 32;
        await Task.WhenAll(Enumerable.Range(0, n).Select(i => Task.Run(async () => await s.PutAsync($"c/{i % 4}/{i}", Random(1000 + i, i)))));
        for (int i = 0; i < n; i++) Assert.Equal(Random(1000 + i, i), await GetAll(s, $"c/{i % 4}/{i}"));
        Assert.Equal(n, (await List(s, "c/")).Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("/")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/../b")]
    [InlineData("../escape")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\0b")]
    public async Task Invalid_keys_are_rejected(string key)
    {
        var s = Create();
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.PutAsync(key, B("x")));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.GetAsync(key, 0, new byte[1]));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.HeadAsync(key));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.DeleteAsync(key));
        Assert.Empty(await List(s, ""));
    }
}
