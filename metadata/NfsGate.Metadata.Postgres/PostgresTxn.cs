using System.Buffers.Binary;
using NfsGate.Metadata.Kv;
using Npgsql;
using NpgsqlTypes;

namespace NfsGate.Metadata.Postgres;

/// <summary>
/// One PostgreSQL transaction behind <see cref="IKvTxn"/> (or, read-only, <see cref="IKvReader"/>). BEGIN is sent with
/// the first statement, not on its own; writes are buffered in <see cref="_writes"/> (null = deleted), merged into every
/// read, and sent with COMMIT in one batch. A body that never touches the database costs no round trip at all.
/// <para>
/// Point reads are remembered (<see cref="_read"/>): the transaction reads one snapshot from its first statement to
/// COMMIT (REPEATABLE READ and SERIALIZABLE both do), so asking again could only return the same row. That is what makes
/// group commit cheap: the bodies of a group (<see cref="PostgresKvStore"/>) share this transaction, and the second
/// CREATE in a directory finds the directory, the counters and the quota key already here.
/// </para>
/// <para>
/// Several bodies can run one after another in this transaction (<see cref="BeginMember"/>): each writes through an
/// undo log, so a body that throws is taken back out (<see cref="UndoMember"/>) while the bodies before it stay.
/// </para>
/// </summary>
internal sealed class PostgresTxn(NpgsqlConnection conn, PostgresKvStore.Sql sql, string begin) : IKvTxn
{
    public const string ReadWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE";
    public const string ReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

    private readonly SortedDictionary<byte[], byte[]?> _writes = new(ByteComparer.Instance);
    private readonly Dictionary<byte[], byte[]?> _read = new(ByteComparer.Instance);
    // (key, had a buffered write, that write) for each write of the current member body, to take it back out.
    private readonly List<(byte[] Key, bool Had, byte[]? Old)> _undo = [];
    private bool _begun, _closed, _logging;

    private bool IsReadOnly => ReferenceEquals(begin, ReadOnly);

    /// <summary>After the body returns the view is dead: a body that leaks it gets an exception, not a torn read.</summary>
    public void Close() => _closed = true;

    /// <summary>Starts one member body of a group: returns the view it gets (closed after it) and logs its writes.</summary>
    public MemberView BeginMember()
    {
        _undo.Clear();
        _logging = true;
        return new MemberView(this);
    }

    /// <summary>The member body returned: its writes stay.</summary>
    public void KeepMember()
    {
        _undo.Clear();
        _logging = false;
    }

    /// <summary>The member body threw: its writes are taken back out, newest first; the reads it made stay (same snapshot).</summary>
    public void UndoMember()
    {
        for (int i = _undo.Count - 1; i >= 0; i--)
        {
            var (k, had, old) = _undo[i];
            if (had) _writes[k] = old;
            else _writes.Remove(k);
        }
        _undo.Clear();
        _logging = false;
    }

    /// <summary>Buffered writes (for tests of the group logic).</summary>
    internal int PendingWrites => _writes.Count;

    private void Write(byte[] key, byte[]? value)
    {
        if (_logging) _undo.Add((key, _writes.TryGetValue(key, out var old), old));
        _writes[key] = value;
    }

    private void CheckOpen() => ObjectDisposedException.ThrowIf(_closed, this);

    /// <summary>Sends the buffered writes and COMMIT in one round trip (nothing at all if nothing was begun).</summary>
    public void Commit()
    {
        if (!_begun && _writes.Count == 0) return;
        using var batch = new NpgsqlBatch(conn);
        if (!_begun) batch.BatchCommands.Add(new NpgsqlBatchCommand(begin));
        var upKeys = new List<byte[]>();
        var upValues = new List<byte[]>();
        var delKeys = new List<byte[]>();
        // Sorted by key (the dictionary's order): two transactions writing overlapping rows lock them in the same order,
        // which rules out deadlocks between our own commits.
        foreach (var (k, v) in _writes)
        {
            if (v is null) delKeys.Add(k);
            else { upKeys.Add(k); upValues.Add(v); }
        }
        if (upKeys.Count > 0)
        {
            var c = new NpgsqlBatchCommand(sql.Upsert);
            c.Parameters.Add(new NpgsqlParameter { Value = upKeys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            c.Parameters.Add(new NpgsqlParameter { Value = upValues.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            batch.BatchCommands.Add(c);
        }
        if (delKeys.Count > 0)
        {
            var c = new NpgsqlBatchCommand(sql.Delete);
            c.Parameters.Add(new NpgsqlParameter { Value = delKeys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            batch.BatchCommands.Add(c);
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        _begun = true;
        batch.ExecuteNonQuery();
        _begun = false;
    }

    /// <summary>After a failure: roll back whatever is open, so the pooled connection goes back clean.</summary>
    public void Abandon()
    {
        _writes.Clear();
        _read.Clear();
        _undo.Clear();
        if (!_begun) return;
        _begun = false;
        try
        {
            using var cmd = new NpgsqlCommand("ROLLBACK", conn);
            cmd.ExecuteNonQuery();
        }
        catch (NpgsqlException)
        {
            // A broken connection: Npgsql will not pool it again, and the server rolls the transaction back.
        }
        catch (InvalidOperationException)
        {
            // The connection is already closed or broken; same as above.
        }
    }

    /// <summary>Runs one statement, prefixed by BEGIN when it is the transaction's first, and hands its rows to <paramref name="read"/>.</summary>
    private T Query<T>(NpgsqlBatchCommand command, Func<NpgsqlDataReader, T> read)
    {
        using var batch = new NpgsqlBatch(conn);
        if (!_begun) batch.BatchCommands.Add(new NpgsqlBatchCommand(begin));
        batch.BatchCommands.Add(command);
        _begun = true;
        using var reader = batch.ExecuteReader();
        return read(reader);
    }

    private static NpgsqlParameter Bytes(ReadOnlySpan<byte> b) => new() { Value = b.ToArray(), NpgsqlDbType = NpgsqlDbType.Bytea };

    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        CheckOpen();
        var k = key.ToArray();
        if (_writes.Count > 0 && _writes.TryGetValue(k, out var w)) return w?.ToArray();
        if (_read.TryGetValue(k, out var seen)) return seen?.ToArray();
        var c = new NpgsqlBatchCommand(sql.Get);
        c.Parameters.Add(Bytes(key));
        var v = Query(c, r => r.Read() ? r.GetFieldValue<byte[]>(0) : null);
        _read[k] = v;
        return v?.ToArray();
    }

    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit)
    {
        CheckOpen();
        var result = new List<KeyValuePair<byte[], byte[]>>();
        if (limit <= 0 || start.SequenceCompareTo(end) >= 0) return result;

        // Each buffered write in the range may shadow a stored row, so fetch that many more.
        var pending = PendingMerge.InRange(_writes, start, end);
        var c = new NpgsqlBatchCommand(sql.Scan);
        c.Parameters.Add(Bytes(start));
        c.Parameters.Add(Bytes(end));
        c.Parameters.Add(new NpgsqlParameter { Value = (long)limit + pending.Count, NpgsqlDbType = NpgsqlDbType.Bigint });
        var stored = Query(c, r =>
        {
            var rows = new List<KeyValuePair<byte[], byte[]>>();
            while (r.Read()) rows.Add(new(r.GetFieldValue<byte[]>(0), r.GetFieldValue<byte[]>(1)));
            return rows;
        });
        // Same snapshot: a later Get of a row seen here needs no round trip (the buffered writes still come first).
        foreach (var row in stored) _read.TryAdd(row.Key, row.Value.ToArray());

        var rows = new ListRows(stored);
        PendingMerge.Merge(ref rows, pending, limit, result);
        return result;
    }

    /// <summary>The fetched rows as the shared merge reads them.</summary>
    private struct ListRows(List<KeyValuePair<byte[], byte[]>> rows) : IStoredRows
    {
        private int _next;
        public readonly bool HasRow => _next < rows.Count;
        public readonly ReadOnlySpan<byte> Key => rows[_next].Key;
        public readonly KeyValuePair<byte[], byte[]> Row => rows[_next];
        public void Next() => _next++;
    }

    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckReadWrite();
        Write(key.ToArray(), value.ToArray());
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        CheckReadWrite();
        Write(key.ToArray(), null);
    }

    public long IncrementBy(ReadOnlySpan<byte> key, long delta)
    {
        CheckReadWrite();
        var cur = Get(key);
        long v = (cur is { Length: 8 } ? BinaryPrimitives.ReadInt64BigEndian(cur) : 0) + delta;
        var buf = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buf, v);
        Write(key.ToArray(), buf);
        return v;
    }

    private void CheckReadWrite()
    {
        CheckOpen();
        // Read() hands this object out as IKvReader; a cast back to IKvTxn must not write into a read-only snapshot.
        if (IsReadOnly) throw new InvalidOperationException("read-only view");
    }
}

/// <summary>
/// What one member body of a group sees: the shared transaction, until the body returns. A body that keeps the view
/// (a leak) must not read or write into the next member's part of the transaction.
/// </summary>
internal sealed class MemberView(PostgresTxn txn) : IKvTxn
{
    private bool _closed;

    public void Close() => _closed = true;

    private PostgresTxn Txn
    {
        get
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return txn;
        }
    }

    public byte[]? Get(ReadOnlySpan<byte> key) => Txn.Get(key);
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit) => Txn.Scan(start, end, limit);
    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Txn.Set(key, value);
    public void Delete(ReadOnlySpan<byte> key) => Txn.Delete(key);
    public long IncrementBy(ReadOnlySpan<byte> key, long delta) => Txn.IncrementBy(key, delta);
}
