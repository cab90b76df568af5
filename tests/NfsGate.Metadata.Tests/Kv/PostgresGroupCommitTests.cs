using System.Buffers.Binary;
using NfsGate.Metadata.Postgres;
using NfsGate.TestShared;

namespace NfsGate.Metadata.Tests.Kv;

/// <summary>
/// Group commit in <see cref="PostgresKvStore"/>: bodies that queue while a group runs commit together as the next
/// group. Every test builds its queue deterministically: the first body blocks until the others are seen queued.
/// </summary>
public sealed class PostgresGroupCommitTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static void WaitQueued(Func<int> queued, int n)
    {
        // Waiting for a state, not measuring time: the bound only turns a bug into a failure instead of a hang.
        for (int i = 0; i < 3000 && queued() < n; i++) Thread.Sleep(10);
        Assert.Equal(n, queued());
    }

    [Fact]
    public void Callers_queued_behind_a_running_group_form_the_next_groups_capped_in_size()
    {
        var sizes = new List<int>();
        using var release = new ManualResetEventSlim();
        GroupCommit? gc = null;
        gc = new GroupCommit(group =>
        {
            lock (sizes) sizes.Add(group.Count);
            if (sizes.Count == 1) release.Wait(); // the first group holds the line while five more callers queue
            foreach (var m in group) m.Result = m.Body(null!);
        }, maxGroup: 3);
        var members = Enumerable.Range(0, 6).Select(i => new GroupMember(_ => i)).ToArray();
        var first = new Thread(() => gc.Run(members[0]));
        first.Start();
        WaitQueued(() => sizes.Count, 1);
        var rest = members.Skip(1).Select(m => new Thread(() => gc.Run(m))).ToArray();
        foreach (var t in rest) t.Start();
        WaitQueued(() => gc.Queued, 5);
        release.Set();
        first.Join();
        foreach (var t in rest) t.Join();
        Assert.Equal([1, 3, 2], sizes);
        for (int i = 0; i < members.Length; i++) Assert.Equal(i, members[i].Result);
        Assert.Equal(0, gc.Queued);
    }

    [Fact]
    public void A_caller_alone_leads_its_own_group_at_once()
    {
        int groups = 0;
        var gc = new GroupCommit(group =>
        {
            groups++;
            foreach (var m in group) m.Result = m.Body(null!);
        }, maxGroup: 8);
        for (int i = 0; i < 5; i++)
        {
            var m = new GroupMember(_ => i * 2);
            gc.Run(m);
            Assert.Equal(i * 2, m.Result);
        }
        Assert.Equal(5, groups);
    }

    [PgFact]
    public void In_one_group_a_failing_body_is_taken_out_and_the_others_commit_in_order()
    {
        string table = "t_" + Guid.NewGuid().ToString("N");
        using var s = new PostgresKvStore(PostgresCluster.ConnectionString, new PostgresKvOptions { Table = table, MaxPoolSize = 4 });
        try
        {
            s.Transact(t => { t.Set(B("keep"), B("kept")); return 0; });
            using var go = new ManualResetEventSlim();
            using var aRunning = new ManualResetEventSlim();
            var a = new Thread(() => s.Transact(t =>
            {
                t.IncrementBy(B("ctr"), 1);
                aRunning.Set();
                go.Wait();
                return 0;
            }));
            a.Start();
            aRunning.Wait();
            long bSaw = 0, dSaw = 0;
            Exception? cError = null;
            // Started one by one, each seen queued before the next, so the group is B, C, D in that order.
            var b = new Thread(() => bSaw = s.Transact(t => t.IncrementBy(B("ctr"), 10)));
            b.Start();
            WaitQueued(() => s.QueuedBodies, 1);
            var c = new Thread(() =>
            {
                try
                {
                    s.Transact<int>(t =>
                    {
                        t.IncrementBy(B("ctr"), 100);
                        t.Set(B("c"), B("never"));
                        t.Delete(B("keep"));
                        throw new TimeoutException();
                    });
                }
                catch (TimeoutException e)
                {
                    cError = e;
                }
            });
            c.Start();
            WaitQueued(() => s.QueuedBodies, 2);
            var d = new Thread(() => dSaw = s.Transact(t =>
            {
                t.Set(B("d"), B("yes"));
                return t.IncrementBy(B("ctr"), 1000);
            }));
            d.Start();
            WaitQueued(() => s.QueuedBodies, 3);
            go.Set();
            a.Join();
            b.Join();
            c.Join();
            d.Join();

            Assert.IsType<TimeoutException>(cError);
            Assert.Equal(11, bSaw);     // saw A's committed increment
            Assert.Equal(1011, dSaw);   // saw B's write in the same transaction, and none of C's
            Assert.Equal(1011, s.Read(r => BinaryPrimitives.ReadInt64BigEndian(r.Get(B("ctr")))));
            Assert.Null(s.Read(r => r.Get(B("c"))));
            Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(s.Read(r => r.Get(B("keep")))!)); // C's delete undone
            Assert.Equal("yes", System.Text.Encoding.UTF8.GetString(s.Read(r => r.Get(B("d")))!));
            var stats = s.Stats();
            Assert.Equal(4, stats["commits"]);       // the setup, A, B, D
            Assert.Equal(3, stats["commit_groups"]); // [setup], [A], [B, C, D]
            Assert.Equal(1, stats["aborts"]);        // C
        }
        finally
        {
            s.DropTable();
        }
    }

    [PgFact]
    public void A_conflict_with_another_gateway_reruns_every_body_of_the_group()
    {
        string table = "t_" + Guid.NewGuid().ToString("N");
        using var s = new PostgresKvStore(PostgresCluster.ConnectionString, new PostgresKvOptions { Table = table, MaxPoolSize = 4 });
        using var other = new PostgresKvStore(PostgresCluster.ConnectionString, new PostgresKvOptions { Table = table, MaxPoolSize = 4 });
        try
        {
            using var go = new ManualResetEventSlim();
            using var aRunning = new ManualResetEventSlim();
            var a = new Thread(() => s.Transact(t =>
            {
                aRunning.Set();
                go.Wait();
                return 0;
            }));
            a.Start();
            aRunning.Wait();
            int bRuns = 0, cRuns = 0;
            long bSaw = 0, cSaw = 0;
            var b = new Thread(() => bSaw = s.Transact(t =>
            {
                bRuns++;
                return t.IncrementBy(B("ctr"), 1);
            }));
            b.Start();
            WaitQueued(() => s.QueuedBodies, 1);
            var c = new Thread(() => cSaw = s.Transact(t =>
            {
                long v = t.IncrementBy(B("ctr"), 10);
                // First run only: another gateway commits an increment of the counter this group has read.
                if (++cRuns == 1)
                {
                    var o = new Thread(() => other.Transact(u => u.IncrementBy(B("ctr"), 100)));
                    o.Start();
                    o.Join();
                }
                return v;
            }));
            c.Start();
            WaitQueued(() => s.QueuedBodies, 2);
            go.Set();
            a.Join();
            b.Join();
            c.Join();
            Assert.Equal(2, bRuns);
            Assert.Equal(2, cRuns);
            Assert.Equal(101, bSaw);
            Assert.Equal(111, cSaw);
            Assert.Equal(111, other.Read(r => BinaryPrimitives.ReadInt64BigEndian(r.Get(B("ctr")))));
            Assert.True(s.Stats()["serialization_retries"] >= 1);
        }
        finally
        {
            s.DropTable();
        }
    }
}
