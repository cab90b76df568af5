using System.Buffers.Binary;
using System.Text;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests.Kv;

/// <summary>
/// What every <see cref="IKvStore"/> engine must do (JuiceFS testTKV). Subclass with a factory per engine.
/// Each test gets a fresh, empty store and disposes it.
/// </summary>
public abstract class KvStoreContract
{
    /// <summary>A new, empty store. The test disposes it.</summary>
    protected abstract IKvStore Create();

    protected static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
    protected static byte[] B(params byte[] b) => b;
    protected static string S(byte[]? b) => b is null ? "<null>" : Encoding.UTF8.GetString(b);
    protected static byte[] I64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); return b; }
    protected static long L(byte[]? b) => b is { Length: 8 } ? BinaryPrimitives.ReadInt64BigEndian(b) : 0;

    protected static void Put(IKvStore s, string k, string v) => s.Transact(t => { t.Set(B(k), B(v)); return 0; });
    protected static byte[]? Get(IKvStore s, byte[] k) => s.Read(r => r.Get(k));
    protected static string[] Keys(IReadOnlyList<KeyValuePair<byte[], byte[]>> kvs) => kvs.Select(kv => S(kv.Key)).ToArray();

    [Fact]
    public void Get_set_delete()
    {
        using var s = Create();
        Assert.Null(Get(s, B("a")));
        Put(s, "a", "1");
        Assert.Equal("1", S(Get(s, B("a"))));
        Put(s, "a", "2");
        Assert.Equal("2", S(Get(s, B("a"))));
        s.Transact(t => { t.Delete(B("a")); return 0; });
        Assert.Null(Get(s, B("a")));
        s.Transact(t => { t.Delete(B("never-existed")); return 0; });
        Assert.Null(Get(s, B("never-existed")));
    }

    [Fact]
    public void Transact_returns_the_body_result_and_reads_committed_data()
    {
        using var s = Create();
        Put(s, "x", "42");
        Assert.Equal("42", s.Transact(t => S(t.Get(B("x")))));
        Assert.Equal(7, s.Read(_ => 7));
    }

    [Fact]
    public void Scan_is_start_inclusive_end_exclusive_in_unsigned_byte_order()
    {
        using var s = Create();
        byte[][] keys = [B(0x00), B(0x01), B(0x7f), B(0x80), B(0x80, 0x00), B(0xff), B(0xff, 0xff)];
        s.Transact(t => { foreach (var k in keys.Reverse()) t.Set(k, k); return 0; });

        var all = s.Read(r => r.Scan(B(), B(0xff, 0xff, 0xff), 100));
        Assert.Equal(keys.Select(Convert.ToHexString), all.Select(kv => Convert.ToHexString(kv.Key)));
        Assert.All(all, kv => Assert.Equal(kv.Key, kv.Value));

        var mid = s.Read(r => r.Scan(B(0x01), B(0xff), 100));
        Assert.Equal(["01", "7F", "80", "8000"], mid.Select(kv => Convert.ToHexString(kv.Key)));

        Assert.Empty(s.Read(r => r.Scan(B(0x80), B(0x80), 100)));
        Assert.Empty(s.Read(r => r.Scan(B(0x90), B(0x80), 100)));
        Assert.Empty(s.Read(r => r.Scan(B(0x02), B(0x7f), 100)));
    }

    [Fact]
    public void Scan_limit_returns_the_first_keys()
    {
        using var s = Create();
        s.Transact(t => { for (int i = 0; i < 20; i++) t.Set(B($"k{i:D2}"), B($"v{i}")); return 0; });
        Assert.Equal(["k00", "k01", "k02"], Keys(s.Read(r => r.Scan(B("k"), B("l"), 3))));
        Assert.Equal(["k05", "k06"], Keys(s.Read(r => r.Scan(B("k05"), B("k07"), 10))));
        Assert.Empty(s.Read(r => r.Scan(B("k"), B("l"), 0)));
        Assert.Equal(20, s.Read(r => r.Scan(B("k"), B("l"), int.MaxValue)).Count);
    }

    [Fact]
    public void Txn_reads_its_own_writes_including_scan_merge_with_deletes()
    {
        using var s = Create();
        s.Transact(t => { foreach (var k in new[] { "a", "b", "c", "d" }) t.Set(B(k), B("old")); return 0; });
        s.Transact(t =>
        {
            t.Delete(B("b"));
            t.Set(B("bb"), B("new"));
            t.Set(B("c"), B("new"));
            t.Set(B("e"), B("new"));
            t.Delete(B("zz")); // deleting an absent key must not produce a phantom in scans

            Assert.Null(t.Get(B("b")));
            Assert.Equal("new", S(t.Get(B("bb"))));
            Assert.Equal("new", S(t.Get(B("c"))));
            Assert.Equal(["a", "bb", "c"], Keys(t.Scan(B("a"), B("d"), 10)));
            Assert.Equal(["new", "new"], t.Scan(B("b"), B("d"), 10).Select(kv => S(kv.Value)));
            // The deleted "b" must not use up the limit.
            Assert.Equal(["a", "bb"], Keys(t.Scan(B("a"), B("z"), 2)));
            Assert.Equal(["a", "bb", "c", "d", "e"], Keys(t.Scan(B(""), B("zzz"), 100)));

            t.Set(B("b"), B("again"));
            Assert.Equal("again", S(t.Get(B("b"))));
            t.Delete(B("bb"));
            Assert.Equal(["a", "b", "c"], Keys(t.Scan(B("a"), B("d"), 10)));
            return 0;
        });
        Assert.Equal(["a", "b", "c", "d", "e"], Keys(s.Read(r => r.Scan(B(""), B("zzz"), 100))));
        Assert.Equal("again", S(Get(s, B("b"))));
        Assert.Null(Get(s, B("bb")));
    }

    [Fact]
    public void Body_that_throws_writes_nothing_and_the_exception_propagates()
    {
        using var s = Create();
        Put(s, "keep", "1");
        var ex = Assert.Throws<InvalidTimeZoneException>(() => s.Transact<int>(t =>
        {
            t.Set(B("new"), B("x"));
            t.Delete(B("keep"));
            t.IncrementBy(B("ctr"), 5);
            throw new InvalidTimeZoneException("boom");
        }));
        Assert.Equal("boom", ex.Message);
        Assert.Null(Get(s, B("new")));
        Assert.Null(Get(s, B("ctr")));
        Assert.Equal("1", S(Get(s, B("keep"))));
        Put(s, "after", "ok"); // the store is still usable
        Assert.Equal("ok", S(Get(s, B("after"))));
    }

    [Fact]
    public void IncrementBy_treats_absent_as_zero_and_accepts_negative_deltas()
    {
        using var s = Create();
        Assert.Equal(5, s.Transact(t => t.IncrementBy(B("c"), 5)));
        Assert.Equal(-3, s.Transact(t => t.IncrementBy(B("c"), -8)));
        Assert.Equal(I64(-3), Get(s, B("c")));
        Assert.Equal(-10, s.Transact(t => t.IncrementBy(B("neg"), -10)));
        Assert.Equal(0, s.Transact(t => t.IncrementBy(B("zero"), 0)));
        Assert.Equal(I64(0), Get(s, B("zero")));
        // Several increments in one transaction see each other.
        Assert.Equal(7, s.Transact(t => { t.IncrementBy(B("m"), 3); return t.IncrementBy(B("m"), 4); }));
        Assert.Equal(long.MaxValue, s.Transact(t => t.IncrementBy(B("big"), long.MaxValue)));
    }

    [Fact]
    public void Concurrent_increments_are_not_lost()
    {
        using var s = Create();
        const int threads = 4, perThread = 250;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            for (int i = 0; i < perThread; i++) s.Transact(t => t.IncrementBy(B("ctr"), 1));
        });
        Assert.Equal(threads * perThread, L(Get(s, B("ctr"))));
    }

    [Fact]
    public void Concurrent_transfers_keep_the_sum_invariant_and_readers_see_consistent_snapshots()
    {
        using var s = Create();
        const long total = 1000;
        s.Transact(t => { t.Set(B("acct/a"), I64(total)); t.Set(B("acct/b"), I64(0)); return 0; });
        int badSnapshots = 0;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                long sum = s.Read(r => r.Scan(B("acct/"), B("acct0"), 10).Sum(kv => L(kv.Value)));
                long sum2 = s.Read(r => L(r.Get(B("acct/a"))) + L(r.Get(B("acct/b"))));
                if (sum != total || sum2 != total) Interlocked.Increment(ref badSnapshots);
            }
        });
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            var rnd = new Random(w);
            for (int i = 0; i < 200; i++)
            {
                long amount = rnd.Next(1, 20);
                bool aToB = rnd.Next(2) == 0;
                s.Transact(t =>
                {
                    // read-modify-write of two keys: a lost update or a torn read breaks the sum
                    long a = L(t.Get(B("acct/a"))), b = L(t.Get(B("acct/b")));
                    long move = aToB ? Math.Min(amount, a) : -Math.Min(amount, b);
                    t.Set(B("acct/a"), I64(a - move));
                    t.Set(B("acct/b"), I64(b + move));
                    return 0;
                });
            }
        });
        stop.Cancel();
        reader.Wait();
        Assert.Equal(0, badSnapshots);
        long fa = L(Get(s, B("acct/a"))), fb = L(Get(s, B("acct/b")));
        Assert.Equal(total, fa + fb);
        Assert.True(fa >= 0 && fb >= 0);
    }

    [Fact]
    public void Durable_commit_and_sync()
    {
        using var s = Create();
        Assert.Equal(1, s.Transact(t => t.IncrementBy(B("d"), 1), durable: true));
        s.Sync();
        Assert.Equal(1, L(Get(s, B("d"))));
        // Durable commits from several threads at once (the group-commit path in engines that have one).
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (int i = 0; i < 10; i++) s.Transact(t => t.IncrementBy(B("d"), 1), durable: true);
        });
        Assert.Equal(41, L(Get(s, B("d"))));
    }

    [Fact]
    public void Empty_keys_and_empty_values_are_ordinary()
    {
        using var s = Create();
        s.Transact(t => { t.Set(B(), B("empty-key")); t.Set(B("k"), B()); return 0; });
        Assert.Equal("empty-key", S(Get(s, B())));
        var empty = Get(s, B("k"));
        Assert.NotNull(empty);
        Assert.Empty(empty);
        Assert.Equal(["", "k"], Keys(s.Read(r => r.Scan(B(), B("z"), 10))));
        Assert.Empty(s.Read(r => r.Scan(B(), B("z"), 10))[1].Value);
        s.Transact(t => { t.Delete(B()); return 0; });
        Assert.Null(Get(s, B()));
    }

    [Fact]
    public void Large_values_round_trip()
    {
        using var s = Create();
        var big = new byte[1 << 20];
        new Random(1).NextBytes(big);
        s.Transact(t => { t.Set(B("big"), big); return 0; }, durable: true);
        Assert.Equal(big, Get(s, B("big")));
        Assert.Equal(big, s.Read(r => r.Scan(B("b"), B("c"), 1))[0].Value);
    }

    [Fact]
    public void Returned_arrays_are_copies()
    {
        using var s = Create();
        var v = B("value");
        s.Transact(t => { t.Set(B("k"), v); return 0; });
        v[0] = (byte)'X'; // the caller's buffer is not aliased by the store
        var got = Get(s, B("k"))!;
        Assert.Equal("value", S(got));
        got[0] = (byte)'Y';
        Assert.Equal("value", S(Get(s, B("k"))));
    }

    [Fact]
    public void Stats_and_engine_name_are_available()
    {
        using var s = Create();
        Put(s, "a", "1");
        Assert.False(string.IsNullOrEmpty(s.Engine));
        Assert.NotNull(s.Stats());
    }

    [Fact]
    public void GetLatest_copies_the_committed_value_or_reports_its_length()
    {
        using var s = Create();
        var buf = new byte[8];
        Assert.Equal(-1, s.GetLatest(B("k"), buf));
        Put(s, "k", "abc");
        Assert.Equal(3, s.GetLatest(B("k"), buf));
        Assert.Equal("abc", Encoding.UTF8.GetString(buf, 0, 3));
        Put(s, "k", "0123456789");
        Array.Clear(buf);
        Assert.Equal(10, s.GetLatest(B("k"), buf)); // too long: the length, nothing copied
        Assert.Equal(new byte[8], buf);
        var big = new byte[10];
        Assert.Equal(10, s.GetLatest(B("k"), big));
        Assert.Equal("0123456789", S(big));
        Put(s, "e", "");
        Assert.Equal(0, s.GetLatest(B("e"), buf)); // present but empty is not absent
        s.Transact(t => { t.Delete(B("k")); return 0; });
        Assert.Equal(-1, s.GetLatest(B("k"), big));
    }
}
