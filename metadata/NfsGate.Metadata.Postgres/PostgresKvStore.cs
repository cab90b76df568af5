using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using NfsGate.Metadata.Kv;
using Npgsql;

namespace NfsGate.Metadata.Postgres;

/// <summary>
/// The shared metadata engine: <see cref="IKvStore"/> over one PostgreSQL table <c>(k bytea primary key, v bytea)</c>,
/// so several gateways can serve the same volumes. See README.md for what it relies on (and for CockroachDB/YugabyteDB).
/// <para>
/// Isolation: the metadata code was written against RocksDB's fully serialized transactions, so every read-write
/// transaction runs at SERIALIZABLE and a serialization failure (SQLSTATE 40001, or a deadlock, 40P01) re-runs the body
/// from the start on a fresh transaction — the seam requires bodies to have no side effects outside the transaction,
/// exactly so that engines can do this. Reads (<see cref="Read{T}"/>) run in a REPEATABLE READ READ ONLY transaction:
/// one snapshot, never blocked, never aborted.
/// </para>
/// <para>
/// Writes are buffered in the transaction object (reads merge them, so a body sees its own writes) and sent at commit
/// as one batch together with COMMIT: a read-write transaction costs one round trip per read plus one to commit.
/// Every commit is synchronous (PostgreSQL's default synchronous_commit=on), so each commit is durable when it returns,
/// <c>durable: false</c> gives the same guarantee, and <see cref="Sync"/> has nothing left to do.
/// </para>
/// </summary>
public sealed partial class PostgresKvStore : IKvStore
{
    private readonly NpgsqlDataSource _source;
    private readonly PostgresKvOptions _options;
    internal readonly Sql Statements;
    private long _commits, _groups, _retries, _aborts, _reads;
    private volatile bool _disposed;
    // Read-write transactions of this process run one group at a time, as on RocksDB they run one at a time. Every
    // CREATE touches the same counters (next inode, usage, the directory's cookie counter), so concurrent ones almost
    // always conflict; under SERIALIZABLE a conflict is an abort and a re-run, and measured here 4 concurrent CREATE
    // streams on one gateway collapsed to ~15/s with retries exhausted, against ~800/s on RocksDB. Queueing them
    // locally turns that waste into waiting, and group commit turns the waiting into batching: the bodies that queued
    // up while one group committed run together as the next group, in one transaction with one COMMIT (one
    // synchronous WAL flush) and shared reads. Only transactions of different gateways can still conflict (and are retried).
    private readonly GroupCommit _group;
    // Read transactions holding (or about to open) a pooled connection: one fewer than the pool, which keeps one for the
    // running write group. Callers beyond it wait here, on a plain blocking semaphore, instead of in Npgsql's pool: a
    // synchronous open on an exhausted pool waits on an async channel, whose hand-over can need a free thread-pool
    // thread, and the gateway's threads are what is short when every call blocks (see RaiseMinThreads). Measured on the
    // loaded 2-core host it made no difference beyond the run-to-run noise (perf/README.md); it is here for the reason.
    private readonly SemaphoreSlim _readSlots;

    // A nested Transact would take a second pooled connection and commit independently of the outer transaction,
    // silently breaking atomicity (and on one row it would wait for itself): refuse it, as RocksKvStore does.
    [ThreadStatic] private static PostgresKvStore? t_inTransaction;

    /// <param name="connectionString">An Npgsql connection string ("Host=...;Port=...;Database=...;Username=...").</param>
    public PostgresKvStore(string connectionString, PostgresKvOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _options = options ?? new PostgresKvOptions();
        if (!TableName().IsMatch(_options.Table)) throw new ArgumentException($"table name '{_options.Table}' must match {TableName()}");
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxAttempts, 1);
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        // The same few statements run all the time: let Npgsql prepare them after their second use.
        if (csb.MaxAutoPrepare == 0) csb.MaxAutoPrepare = 16;
        // Every transaction opens a pooled connection, and by default Npgsql resets the session when it goes back to the
        // pool (with prepared statements: RESET ALL, CLOSE ALL, UNLISTEN, advisory unlock, DISCARD ...: seven statements
        // of server work on every transaction). This store never changes session state, so there is nothing to reset.
        if (!connectionString.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("NoResetOnClose", StringComparison.OrdinalIgnoreCase))
            csb.NoResetOnClose = true;
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            csb.MaxPoolSize = _options.MaxPoolSize;
        _source = NpgsqlDataSource.Create(csb.ConnectionString);
        RaiseMinThreads(csb.MaxPoolSize + _options.MaxGroup);
        _readSlots = new SemaphoreSlim(Math.Max(1, csb.MaxPoolSize - 1));
        Statements = new Sql(_options.Table);
        _group = new GroupCommit(RunGroup, _options.MaxGroup);
        try
        {
            CreateSchema();
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    public string Engine => "postgres";

    /// <summary>
    /// The seam is synchronous and the gateway calls it from thread-pool threads. On this engine every call blocks its
    /// thread for database round trips (milliseconds, against RocksDB's microseconds), and callers queued for the next
    /// group block while the current one commits. The pool starts with one thread per core and adds roughly one per
    /// half second while starved, so a burst of concurrent CREATEs starved a fresh gateway for tens of seconds (the
    /// same gateway did 17 CREATE/s cold and 184/s once its pool had grown). So: keep enough threads from the start
    /// for every pooled connection plus a full queued group to block at once. Process-wide, and only ever raised.
    /// </summary>
    private static void RaiseMinThreads(int blocked)
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        int want = Environment.ProcessorCount + blocked;
        if (workers < want) ThreadPool.SetMinThreads(want, io);
    }

    /// <summary>Transaction bodies queued behind the running group (tests).</summary>
    internal int QueuedBodies => _group.Queued;

    /// <summary>The table, for logs.</summary>
    public string Table => _options.Table;

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex TableName();

    /// <summary>Creates the table on first start. Two gateways starting at once may race on CREATE TABLE IF NOT EXISTS
    /// (PostgreSQL then reports a duplicate catalog row); the loser simply finds the table there.</summary>
    private void CreateSchema()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var conn = _source.OpenConnection();
                using var cmd = new NpgsqlCommand(Statements.Create, conn);
                cmd.ExecuteNonQuery();
                return;
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                Thread.Sleep(20);
            }
        }
    }

    public T Transact<T>(Func<IKvTxn, T> body, bool durable = false)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (t_inTransaction is not null) throw new InvalidOperationException("nested Transact on the same thread");
        var member = new GroupMember(t => body(t));
        _group.Run(member);
        if (member.Error is not null) member.Error.Throw();
        return (T)member.Result!;
    }

    /// <summary>
    /// Runs one group: every member body in turn on one SERIALIZABLE transaction, then COMMIT once. A body that throws
    /// is taken back out (its writes undone) and gets its exception; the rest commit. A serialization failure re-runs
    /// the whole group; any other database error fails every member still waiting (they shared the transaction).
    /// </summary>
    private void RunGroup(IReadOnlyList<GroupMember> group)
    {
        for (int attempt = 1; ; attempt++)
        {
            PostgresTxn? txn = null;
            try
            {
                using var conn = _source.OpenConnection();
                txn = new PostgresTxn(conn, Statements, PostgresTxn.ReadWrite);
                int kept = 0;
                foreach (var m in group)
                {
                    m.Result = null;
                    m.Error = null;
                    var view = txn.BeginMember();
                    t_inTransaction = this;
                    try
                    {
                        m.Result = m.Body(view);
                        txn.KeepMember();
                        kept++;
                    }
                    catch (NpgsqlException)
                    {
                        throw; // the database transaction is gone, for every member
                    }
                    catch (Exception e)
                    {
                        txn.UndoMember();
                        m.Error = ExceptionDispatchInfo.Capture(e);
                        Interlocked.Increment(ref _aborts);
                    }
                    finally
                    {
                        t_inTransaction = null;
                        view.Close();
                    }
                }
                txn.Close();
                txn.Commit();
                Interlocked.Add(ref _commits, kept);
                Interlocked.Increment(ref _groups);
                return;
            }
            catch (PostgresException e) when (IsConflict(e) && attempt < _options.MaxAttempts)
            {
                txn?.Abandon();
                Interlocked.Increment(ref _retries);
                // Back off, randomised and growing (1, 2, 4 ... up to 50 ms), so gateways that keep colliding on the same
                // rows spread out instead of colliding again in lockstep.
                Thread.Sleep(Random.Shared.Next(0, Math.Min(1 << Math.Min(attempt, 6), 50) + 1));
            }
            catch (Exception e)
            {
                txn?.Abandon();
                var error = ExceptionDispatchInfo.Capture(e);
                foreach (var m in group)
                {
                    m.Result = null;
                    m.Error = error;
                }
                Interlocked.Add(ref _aborts, group.Count);
                return;
            }
        }
    }

    public T Read<T>(Func<IKvReader, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _readSlots.Wait();
        try
        {
            using var conn = _source.OpenConnection();
            var txn = new PostgresTxn(conn, Statements, PostgresTxn.ReadOnly);
            try
            {
                var result = body(txn);
                txn.Close();
                txn.Commit();
                Interlocked.Increment(ref _reads);
                return result;
            }
            catch
            {
                txn.Close();
                txn.Abandon();
                throw;
            }
        }
        finally
        {
            _readSlots.Release();
        }
    }

    private static bool IsConflict(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected;

    /// <summary>Nothing to do: every commit was synchronous (see the class comment).</summary>
    public void Sync() => ObjectDisposedException.ThrowIf(_disposed, this);

    public IReadOnlyDictionary<string, double> Stats() => new Dictionary<string, double>
    {
        ["commits"] = Interlocked.Read(ref _commits),
        ["commit_groups"] = Interlocked.Read(ref _groups),
        ["serialization_retries"] = Interlocked.Read(ref _retries),
        ["aborts"] = Interlocked.Read(ref _aborts),
        ["reads"] = Interlocked.Read(ref _reads),
    };

    /// <summary>Drops the table: for tests that made a throwaway table, and nothing else.</summary>
    public void DropTable()
    {
        using var conn = _source.OpenConnection();
        using var cmd = new NpgsqlCommand(Statements.Drop, conn);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (t_inTransaction == this) throw new InvalidOperationException("Dispose inside a transaction body");
        if (_disposed) return;
        _disposed = true;
        _source.Dispose();
        // _readSlots is not disposed: a read still finishing would throw on Release (it has no wait handle to free).
    }

    /// <summary>The statements, with the table name spliced in once (it is validated: no injection).</summary>
    internal sealed class Sql(string table)
    {
        public readonly string Create = $"CREATE TABLE IF NOT EXISTS {table} (k bytea PRIMARY KEY, v bytea NOT NULL)";
        public readonly string Drop = $"DROP TABLE IF EXISTS {table}";
        public readonly string Get = $"SELECT v FROM {table} WHERE k = $1";
        public readonly string Scan = $"SELECT k, v FROM {table} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3";
        public readonly string Upsert =
            $"INSERT INTO {table} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
        public readonly string Delete = $"DELETE FROM {table} WHERE k = ANY($1::bytea[])";
    }
}
