using System.Buffers.Binary;
using NfsGate.Metadata.Kv;
using Npgsql;
using NpgsqlTypes;

namespace NfsGate.Metadata.Postgres;

/// <summary>
/// One PostgreSQL transaction behind <see cref="IKvTxn"/> (or, read-only, <see cref="IKvReader"/>). BEGIN is sent with
/// the first statement, not on its own; writes are buffered in <see cref="_writes"/> (null = deleted), merged into every
/// read, and sent with COMMIT in one batch. A body that never touches the database costs no round trip at all.
/// </summary>
internal sealed class PostgresTxn(NpgsqlConnection conn, PostgresKvStore.Sql sql, string begin) : IKvTxn
{
    public const string ReadWrite = "BEGIN ISOLATION LEVEL SERIALIZABLE";
    public const string ReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

    private readonly SortedDictionary<byte[], byte[]?> _writes = new(ByteComparer.Instance);
    private bool _begun, _closed;

    private bool IsReadOnly => ReferenceEquals(begin, ReadOnly);

    /// <summary>After the body returns the view is dead: a body that leaks it gets an exception, not a torn read.</summary>
    public void Close() => _closed = true;

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
        if (_writes.Count > 0 && _writes.TryGetValue(key.ToArray(), out var w)) return w?.ToArray();
        var c = new NpgsqlBatchCommand(sql.Get);
        c.Parameters.Add(Bytes(key));
        return Query(c, r => r.Read() ? r.GetFieldValue<byte[]>(0) : null);
    }

    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit)
    {
        CheckOpen();
        var result = new List<KeyValuePair<byte[], byte[]>>();
        if (limit <= 0 || start.SequenceCompareTo(end) >= 0) return result;

        // The buffered writes inside [start, end), in order: each may shadow a stored row, so fetch that many more.
        var pending = new List<KeyValuePair<byte[], byte[]?>>();
        foreach (var kv in _writes)
        {
            if (kv.Key.AsSpan().SequenceCompareTo(start) < 0) continue;
            if (kv.Key.AsSpan().SequenceCompareTo(end) >= 0) break;
            pending.Add(kv);
        }
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

        int s = 0, p = 0;
        while (result.Count < limit && (s < stored.Count || p < pending.Count))
        {
            int cmp = s == stored.Count ? 1 : p == pending.Count ? -1 : stored[s].Key.AsSpan().SequenceCompareTo(pending[p].Key);
            if (cmp < 0)
            {
                result.Add(stored[s++]);
                continue;
            }
            if (cmp == 0) s++; // the buffered write shadows the stored value
            var (k, v) = pending[p++];
            if (v is not null) result.Add(new(k.ToArray(), v.ToArray()));
        }
        return result;
    }

    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckReadWrite();
        _writes[key.ToArray()] = value.ToArray();
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        CheckReadWrite();
        _writes[key.ToArray()] = null;
    }

    public long IncrementBy(ReadOnlySpan<byte> key, long delta)
    {
        CheckReadWrite();
        var cur = Get(key);
        long v = (cur is { Length: 8 } ? BinaryPrimitives.ReadInt64BigEndian(cur) : 0) + delta;
        var buf = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buf, v);
        _writes[key.ToArray()] = buf;
        return v;
    }

    private void CheckReadWrite()
    {
        CheckOpen();
        // Read() hands this object out as IKvReader; a cast back to IKvTxn must not write into a read-only snapshot.
        if (IsReadOnly) throw new InvalidOperationException("read-only view");
    }
}
