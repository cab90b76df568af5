namespace NfsGate.Metadata.Kv;

/// <summary>
/// The small transactional key-value seam under the metadata layer. All POSIX logic is written once
/// over it; an engine (RocksDB, in-memory, a shared SQL engine) is a few hundred lines.
/// Keys and values are byte strings; keys sort bytewise (unsigned lexicographic).
/// </summary>
public interface IKvStore : IDisposable
{
    /// <summary>Engine name for logs and metrics ("rocksdb", "memory", ...).</summary>
    string Engine { get; }

    /// <summary>
    /// Runs <paramref name="body"/> in a serializable read-write transaction and commits it. If the engine
    /// detects a conflict it rolls back and runs <paramref name="body"/> again, so the body must have no side
    /// effects outside the transaction. If the body throws, nothing is written. With <paramref name="durable"/>
    /// the commit is on stable storage (fsync'ed) before this returns; otherwise it survives a process kill but
    /// perhaps not a power loss. A durable commit also makes every commit before it durable (engines
    /// apply commits in order; COMMIT in the data path relies on this).
    /// </summary>
    T Transact<T>(Func<IKvTxn, T> body, bool durable = false);

    /// <summary>Runs <paramref name="body"/> against a consistent read-only snapshot.</summary>
    T Read<T>(Func<IKvReader, T> body);

    /// <summary>
    /// One key's latest committed value copied into <paramref name="dest"/>, for the per-call read path (GETATTR,
    /// LOOKUP) where a snapshot, a closure and a value array per call were most of the cost. Returns the value's
    /// length, or -1 when the key is absent; a value longer than <paramref name="dest"/> returns its length and
    /// copies nothing (the caller retries with a bigger buffer). A single key needs no snapshot to be consistent.
    /// Engines override this to avoid allocating; the default goes through <see cref="Read{T}"/>.
    /// </summary>
    int GetLatest(ReadOnlySpan<byte> key, Span<byte> dest)
    {
        var k = key.ToArray();
        var v = Read(r => r.Get(k));
        if (v is null) return -1;
        if (v.Length <= dest.Length) v.CopyTo(dest);
        return v.Length;
    }

    /// <summary>
    /// True when a commit that is not durable costs only local CPU: no network round trip, no wait for other
    /// transactions or for a shared flush (RocksDB, memory). The NFS layer then answers namespace changes (CREATE,
    /// REMOVE, ...) on a connection's receive thread instead of handing them to the pool. A shared SQL engine waits
    /// on the network for every commit, so it keeps the default.
    /// </summary>
    bool LocalCommits => false;

    /// <summary>Forces everything committed so far to stable storage.</summary>
    void Sync();

    /// <summary>Engine statistics for metrics (name → value); may be empty.</summary>
    IReadOnlyDictionary<string, double> Stats();
}

public interface IKvReader
{
    /// <summary>The value, or null when the key is absent.</summary>
    byte[]? Get(ReadOnlySpan<byte> key);

    /// <summary>Up to <paramref name="limit"/> pairs with <paramref name="start"/> ≤ key &lt; <paramref name="end"/>, ascending.</summary>
    IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit);
}

public interface IKvTxn : IKvReader
{
    void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);
    void Delete(ReadOnlySpan<byte> key);

    /// <summary>Adds <paramref name="delta"/> to an 8-byte big-endian signed counter (absent = 0); returns the new value.</summary>
    long IncrementBy(ReadOnlySpan<byte> key, long delta);
}
