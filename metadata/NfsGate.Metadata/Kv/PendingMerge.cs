namespace NfsGate.Metadata.Kv;

/// <summary>
/// An engine's stored rows for one scan, in key order, as <see cref="PendingMerge"/> reads them. Engines pass a
/// struct: the merge is then compiled for that engine and calls it directly (no boxing, no delegate), so sharing the
/// merge adds nothing on the heap per scan to what the engine already reads.
/// </summary>
public interface IStoredRows
{
    /// <summary>False once the stored rows are used up.</summary>
    bool HasRow { get; }

    /// <summary>The current row's key; valid until <see cref="Next"/>.</summary>
    ReadOnlySpan<byte> Key { get; }

    /// <summary>The current row as the scan returns it (the engine decides whether that copies).</summary>
    KeyValuePair<byte[], byte[]> Row { get; }

    void Next();
}

/// <summary>
/// The half of Scan that every engine buffering its writes shares (RocksDB, PostgreSQL): a transaction sees its own
/// writes, so a scan merges the buffered writes inside [start, end) with the engine's stored rows — a buffered value
/// replaces the stored one, a buffered delete (null) hides it. Written once so the rule (shadowing, order, limit) is the
/// same whichever engine sits under the metadata.
/// </summary>
public static class PendingMerge
{
    /// <summary>
    /// The buffered writes inside [start, end), in key order (null value = deleted). A transaction's buffer is small,
    /// so a linear pass is fine.
    /// </summary>
    public static List<KeyValuePair<byte[], byte[]?>> InRange(SortedDictionary<byte[], byte[]?> writes, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        var pending = new List<KeyValuePair<byte[], byte[]?>>();
        foreach (var kv in writes)
        {
            if (kv.Key.AsSpan().SequenceCompareTo(start) < 0) continue;
            if (kv.Key.AsSpan().SequenceCompareTo(end) >= 0) break;
            pending.Add(kv);
        }
        return pending;
    }

    /// <summary>Appends to <paramref name="result"/>, in key order, until it holds <paramref name="limit"/> pairs or both sides run out.</summary>
    public static void Merge<TRows>(ref TRows stored, List<KeyValuePair<byte[], byte[]?>> pending, int limit, List<KeyValuePair<byte[], byte[]>> result)
        where TRows : struct, IStoredRows
    {
        int p = 0;
        while (result.Count < limit)
        {
            bool hasStored = stored.HasRow;
            if (!hasStored && p == pending.Count) break;
            int c = !hasStored ? 1 : p == pending.Count ? -1 : stored.Key.SequenceCompareTo(pending[p].Key);
            if (c < 0)
            {
                result.Add(stored.Row);
                stored.Next();
                continue;
            }
            if (c == 0) stored.Next(); // the buffered write shadows the stored value
            var (k, v) = pending[p++];
            if (v is not null) result.Add(new(k.ToArray(), v.ToArray()));
        }
    }
}
