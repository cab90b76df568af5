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
    private long _commits, _retries, _aborts, _reads;
    private volatile bool _disposed;
    // Read-write transactions of this process run one at a time, as on RocksDB. Every CREATE touches the same
    // counters (next inode, usage, the directory's cookie counter), so concurrent ones almost always conflict; under
    // SERIALIZABLE a conflict is an abort and a re-run, and measured here 4 concurrent CREATE streams on one gateway
    // collapsed to ~15/s with retries exhausted, against ~800/s on RocksDB. Queueing them locally turns that waste
    // into waiting; only transactions of different gateways can still conflict (and are retried).
    private readonly Lock _writeLock = new();

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
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            csb.MaxPoolSize = _options.MaxPoolSize;
        _source = NpgsqlDataSource.Create(csb.ConnectionString);
        Statements = new Sql(_options.Table);
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
        for (int attempt = 1; ; attempt++)
        {
            using var conn = _source.OpenConnection();
            var txn = new PostgresTxn(conn, Statements, PostgresTxn.ReadWrite);
            try
            {
                T result;
                lock (_writeLock)
                {
                    t_inTransaction = this;
                    try
                    {
                        result = body(txn);
                    }
                    finally
                    {
                        t_inTransaction = null;
                        txn.Close();
                    }
                    txn.Commit();
                }
                Interlocked.Increment(ref _commits);
                return result;
            }
            catch (PostgresException e) when (IsConflict(e) && attempt < _options.MaxAttempts)
            {
                txn.Abandon();
                Interlocked.Increment(ref _retries);
                // Back off, randomised and growing (1, 2, 4 ... up to 50 ms), so gateways that keep colliding on the same
                // rows spread out instead of colliding again in lockstep.
                Thread.Sleep(Random.Shared.Next(0, Math.Min(1 << Math.Min(attempt, 6), 50) + 1));
            }
            catch
            {
                txn.Abandon();
                Interlocked.Increment(ref _aborts);
                throw;
            }
        }
    }

    public T Read<T>(Func<IKvReader, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
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

    private static bool IsConflict(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected;

    /// <summary>Nothing to do: every commit was synchronous (see the class comment).</summary>
    public void Sync() => ObjectDisposedException.ThrowIf(_disposed, this);

    public IReadOnlyDictionary<string, double> Stats() => new Dictionary<string, double>
    {
        ["commits"] = Interlocked.Read(ref _commits),
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
