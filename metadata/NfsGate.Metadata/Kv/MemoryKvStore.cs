using System.Buffers.Binary;

namespace NfsGate.Metadata.Kv;

/// <summary>
/// In-memory engine for model tests and throwaway servers. Transactions are serialized by one lock,
/// which makes them trivially serializable; writes are buffered and applied only when the body returns.
/// </summary>
public sealed class MemoryKvStore : IKvStore
{
    // Point reads hash (and GetLatest looks a span up without copying it); the same keys sit in a SortedSet for
    // range views, so a paged scan costs O(log n + page), not O(n).
    private readonly Dictionary<byte[], byte[]> _data = new(ByteComparer.Instance);
    private readonly SortedSet<byte[]> _keys = new(ByteComparer.Instance);
    private readonly Lock _lock = new();

    public string Engine => "memory";

    public bool LocalCommits => true;

    public T Transact<T>(Func<IKvTxn, T> body, bool durable = false)
    {
        lock (_lock)
        {
            var txn = new Txn(this);
            T result = body(txn);
            foreach (var (k, v) in txn.Writes)
            {
                if (v is null) { _data.Remove(k); _keys.Remove(k); }
                else { _data[k] = v; _keys.Add(k); }
            }
            return result;
        }
    }

    public T Read<T>(Func<IKvReader, T> body)
    {
        lock (_lock) return body(new Txn(this));
    }

    public int GetLatest(ReadOnlySpan<byte> key, Span<byte> dest)
    {
        lock (_lock)
        {
            if (!_data.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var v)) return -1;
            if (v.Length <= dest.Length) v.CopyTo(dest);
            return v.Length;
        }
    }

    public void Sync() { }
    public IReadOnlyDictionary<string, double> Stats() => new Dictionary<string, double> { ["keys"] = _data.Count };
    public void Dispose() { }

    private sealed class Txn(MemoryKvStore store) : IKvTxn
    {
        // null value = deleted in this transaction
        public readonly SortedDictionary<byte[], byte[]?> Writes = new(ByteComparer.Instance);

        public byte[]? Get(ReadOnlySpan<byte> key)
        {
            var k = key.ToArray();
            if (Writes.TryGetValue(k, out var w)) return w?.ToArray();
            return store._data.TryGetValue(k, out var v) ? v.ToArray() : null;
        }

        public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit)
        {
            var s = start.ToArray();
            var e = end.ToArray();
            var merged = new SortedDictionary<byte[], byte[]?>(ByteComparer.Instance);
            if (ByteComparer.Instance.Compare(s, e) >= 0) return [];
            // Stored keys in range: take limit + (this txn's writes) so deletes shadowing some still leave enough.
            int want = limit + Writes.Count;
            foreach (var k in store._keys.GetViewBetween(s, e))
            {
                if (ByteComparer.Instance.Compare(k, e) >= 0) break; // the view is inclusive of the upper bound
                merged[k] = store._data[k];
                if (merged.Count >= want) break;
            }
            foreach (var (k, v) in Writes)
                if (ByteComparer.Instance.Compare(k, s) >= 0 && ByteComparer.Instance.Compare(k, e) < 0) merged[k] = v;
            var result = new List<KeyValuePair<byte[], byte[]>>();
            foreach (var (k, v) in merged)
            {
                if (v is null) continue;
                if (result.Count >= limit) break;
                result.Add(new(k.ToArray(), v.ToArray()));
            }
            return result;
        }

        public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Writes[key.ToArray()] = value.ToArray();
        public void Delete(ReadOnlySpan<byte> key) => Writes[key.ToArray()] = null;

        public long IncrementBy(ReadOnlySpan<byte> key, long delta)
        {
            var cur = Get(key);
            long v = (cur is { Length: 8 } ? BinaryPrimitives.ReadInt64BigEndian(cur) : 0) + delta;
            var buf = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(buf, v);
            Set(key, buf);
            return v;
        }
    }
}

/// <summary>Unsigned lexicographic byte order, the order every engine sorts keys in.</summary>
public sealed class ByteComparer : IComparer<byte[]>, IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteComparer Instance = new();
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);
    public int GetHashCode(ReadOnlySpan<byte> span) { var h = new HashCode(); h.AddBytes(span); return h.ToHashCode(); }
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
