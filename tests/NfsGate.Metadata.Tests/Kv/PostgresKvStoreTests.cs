using System.Reflection;
using System.Runtime.ExceptionServices;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Postgres;
using NfsGate.TestShared;

namespace NfsGate.Metadata.Tests.Kv;

/// <summary>
/// Runs every test of the engine-neutral suites (<see cref="KvStoreContract"/>, <see cref="ModelTests"/>,
/// <see cref="ConcurrencyTests"/>) on PostgreSQL, one theory row per test method. Subclassing them directly, as the
/// RocksDB and memory engines do, would inherit their plain [Fact]s, which xunit 2 cannot skip at run time; this way
/// NFSGATE_SKIP_PG=1 skips them cleanly, and a test added to a suite later is picked up here by reflection.
/// </summary>
public sealed class PostgresSuites
{
    private sealed class Contract : KvStoreContract
    {
        protected override IKvStore Create() => Engines.Postgres();
    }

    private sealed class Model : ModelTests
    {
        protected override IKvStore NewKv() => Engines.Postgres();
    }

    private sealed class Concurrency : ConcurrencyTests
    {
        protected override IKvStore NewKv() => Engines.Postgres();
    }

    private static readonly Type[] Suites = [typeof(Contract), typeof(Model), typeof(Concurrency)];

    /// <summary>(suite, method, arguments as text) for every [Fact] and every [InlineData] row of every [Theory].</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var suite in Suites)
        {
            foreach (var m in suite.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (m.GetCustomAttribute<TheoryAttribute>() is not null)
                {
                    foreach (var row in m.GetCustomAttributes<InlineDataAttribute>())
                        data.Add(suite.Name, m.Name, string.Join(",", row.GetData(m).Single().Select(a => a?.ToString())));
                }
                else if (m.GetCustomAttribute<FactAttribute>() is not null)
                {
                    data.Add(suite.Name, m.Name, "");
                }
            }
        }
        return data;
    }

    [PgFact]
    public void Every_suite_method_is_listed()
    {
        var cases = Cases().Select(c => (string)c[1]).ToHashSet();
        Assert.Contains(nameof(KvStoreContract.Concurrent_transfers_keep_the_sum_invariant_and_readers_see_consistent_snapshots), cases);
        Assert.Contains(nameof(ModelTests.Random_operations_match_the_model), cases);
        Assert.Contains(nameof(ConcurrencyTests.Parallel_creates_renames_and_removes_leave_a_consistent_store), cases);
    }

    [PgTheory]
    [MemberData(nameof(Cases))]
    public void Runs_on_postgres(string suite, string method, string args)
    {
        var type = Suites.Single(t => t.Name == suite);
        var m = type.GetMethod(method, BindingFlags.Public | BindingFlags.Instance)!;
        object?[]? parameters = null;
        if (args.Length > 0)
        {
            var row = m.GetCustomAttributes<InlineDataAttribute>()
                .Select(a => a.GetData(m).Single())
                .Single(r => string.Join(",", r.Select(a => a?.ToString())) == args);
            parameters = row;
        }
        var instance = Activator.CreateInstance(type)!;
        try
        {
            m.Invoke(instance, parameters);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }
}

/// <summary>What is particular to the PostgreSQL engine: conflicts retried, several stores on one table, names checked.</summary>
public sealed class PostgresKvStoreTests
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static PostgresKvStore Open(string table) =>
        new(PostgresCluster.ConnectionString, new PostgresKvOptions { Table = table, MaxPoolSize = 4 });

    [PgFact]
    public void Commits_wait_for_the_database_so_they_are_not_local()
    {
        using var s = Open("t_" + Guid.NewGuid().ToString("N"));
        try { Assert.False(((IKvStore)s).LocalCommits); }
        finally { s.DropTable(); }
    }

    [PgFact]
    public void A_serialization_conflict_reruns_the_body_and_loses_no_update()
    {
        string table = "t_" + Guid.NewGuid().ToString("N");
        using var a = Open(table);
        using var b = Open(table);
        try
        {
            a.Transact(t => t.IncrementBy(B("ctr"), 1));
            int runs = 0;
            long result = a.Transact(t =>
            {
                long mine = t.IncrementBy(B("ctr"), 10);
                // On the first run only, another "gateway" commits an increment of the same counter after we read it:
                // under SERIALIZABLE our commit must fail and the body run again on the new value.
                if (++runs == 1)
                {
                    // A thread of its own: Task.Wait could inline the task here, on the transaction's thread.
                    var other = new Thread(() => b.Transact(u => u.IncrementBy(B("ctr"), 100)));
                    other.Start();
                    other.Join();
                }
                return mine;
            });
            Assert.Equal(2, runs);
            Assert.Equal(111, result);
            Assert.Equal(111, b.Read(r => System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(r.Get(B("ctr")))));
            Assert.True(a.Stats()["serialization_retries"] >= 1);
        }
        finally
        {
            a.DropTable();
        }
    }

    [PgFact]
    public void Two_stores_on_one_table_see_each_others_commits_at_once()
    {
        string table = "t_" + Guid.NewGuid().ToString("N");
        using var a = Open(table);
        using var b = Open(table); // a second gateway: CREATE TABLE IF NOT EXISTS finds the table
        try
        {
            for (int i = 0; i < 20; i++)
            {
                a.Transact(t => { t.Set(B("k"), B("a" + i)); return 0; });
                Assert.Equal("a" + i, System.Text.Encoding.UTF8.GetString(b.Read(r => r.Get(B("k")))!));
                b.Transact(t => { t.Delete(B("k")); return 0; });
                Assert.Null(a.Read(r => r.Get(B("k"))));
            }
        }
        finally
        {
            a.DropTable();
        }
    }

    [PgFact]
    public void A_failing_body_leaves_a_clean_pooled_connection()
    {
        string table = "t_" + Guid.NewGuid().ToString("N");
        using var s = Open(table);
        try
        {
            for (int i = 0; i < 10; i++)
            {
                Assert.Throws<TimeoutException>(() => s.Transact<int>(t =>
                {
                    t.Get(B("x")); // BEGIN has gone out: the transaction is open on the connection
                    t.Set(B("x"), B("never"));
                    throw new TimeoutException();
                }));
            }
            // With MaxPoolSize 4, a connection returned with an open transaction would show up here as data or a hang.
            for (int i = 0; i < 10; i++) Assert.Null(s.Read(r => r.Get(B("x"))));
            Assert.Equal(10, s.Stats()["aborts"]);
        }
        finally
        {
            s.DropTable();
        }
    }

    [Fact]
    public void Table_names_are_checked_before_anything_is_sent()
    {
        // No server needed: the check runs in the constructor before any connection is opened.
        Assert.Throws<ArgumentException>(() => new PostgresKvStore("Host=127.0.0.1;Port=1", new PostgresKvOptions { Table = "kv; DROP TABLE x" }));
        Assert.Throws<ArgumentException>(() => new PostgresKvStore("Host=127.0.0.1;Port=1", new PostgresKvOptions { Table = "Upper" }));
    }
}
