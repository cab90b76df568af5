using System.Buffers.Binary;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Maintenance;

/// <summary>
/// Whole-store scans for the maintenance tools, in pages so no one Scan call returns the whole store.
/// Run them inside one <see cref="IKvStore.Read{T}"/> so every page comes from the same snapshot.
/// </summary>
public static class KvScan
{
    public const int PageSize = 4096;

    /// <summary>Calls <paramref name="visit"/> for every pair with start ≤ key &lt; end, ascending.</summary>
    public static void ForEach(IKvReader r, byte[] start, byte[] end, Action<byte[], byte[]> visit, CancellationToken ct = default)
    {
        var from = start;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var page = r.Scan(from, end, PageSize);
            for (int i = 0; i < page.Count; i++) visit(page[i].Key, page[i].Value);
            if (page.Count < PageSize) return;
            from = Successor(page[^1].Key);
        }
    }

    /// <summary>Every volume id that has at least one key, ascending (skips from one volume's prefix to the next).</summary>
    public static List<uint> Volumes(IKvReader r)
    {
        var ids = new List<uint>();
        byte[] end = [(byte)'V' + 1];
        var from = new byte[] { (byte)'V' };
        while (true)
        {
            var page = r.Scan(from, end, 1);
            if (page.Count == 0 || page[0].Key.Length < Keys.VolumePrefixLength) return ids;
            uint vol = BinaryPrimitives.ReadUInt32BigEndian(page[0].Key.AsSpan(1));
            ids.Add(vol);
            if (vol == uint.MaxValue) return ids;
            from = VolumeStart(vol + 1);
        }
    }

    /// <summary>Start of the inode keys of a volume ('V' vol 'A'); end = <see cref="InodeKeysEnd"/>.</summary>
    public static byte[] InodeKeysStart(uint vol) => Keys.Attr(vol, 0).AsSpan(0, Keys.VolumePrefixLength + 1).ToArray();

    public static byte[] InodeKeysEnd(uint vol)
    {
        var k = InodeKeysStart(vol);
        k[^1]++;
        return k;
    }

    /// <summary>An i64 counter (IKvTxn.IncrementBy format); absent = 0.</summary>
    public static long Counter(IKvReader r, byte[] key)
    {
        var v = r.Get(key);
        return v is null || v.Length != 8 ? 0 : BinaryPrimitives.ReadInt64BigEndian(v);
    }

    /// <summary>The last slice id handed out (the 'Gs' counter).</summary>
    public static ulong LastSliceId(IKvReader r) => (ulong)Math.Max(0, Counter(r, Keys.NextSlice));

    /// <summary>
    /// Every chunk key of every volume: (volume, inode, chunk index, raw slice list). Inode keys of a volume are
    /// interleaved, so this walks the volume's inode range and keeps the 'C' rows.
    /// </summary>
    public static void ForEachChunk(IKvReader r, Action<uint, ulong, uint, byte[]> visit, CancellationToken ct = default)
    {
        foreach (uint vol in Volumes(r))
            ForEach(r, InodeKeysStart(vol), InodeKeysEnd(vol), (k, v) =>
            {
                if (k.Length != Keys.InodePrefixLength + 5 || k[Keys.InodePrefixLength] != (byte)'C') return;
                ulong ino = BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(Keys.VolumePrefixLength + 1));
                visit(vol, ino, Keys.ChunkIndexOf(k), v);
            }, ct);
    }

    /// <summary>Slice ids waiting in the delayed-delete queue ('L' keys).</summary>
    public static HashSet<ulong> QueuedSliceIds(IKvReader r, CancellationToken ct = default)
    {
        var ids = new HashSet<ulong>();
        ForEach(r, Keys.DeleteQueueStart, Keys.DeleteQueueEnd, (k, _) =>
        {
            if (k.Length == 17) ids.Add(Keys.SliceIdOfDeleteQueue(k));
        }, ct);
        return ids;
    }

    /// <summary>The smallest key greater than <paramref name="key"/>.</summary>
    private static byte[] Successor(byte[] key)
    {
        var next = new byte[key.Length + 1];
        key.CopyTo(next, 0);
        return next;
    }

    private static byte[] VolumeStart(uint vol)
    {
        var k = new byte[Keys.VolumePrefixLength];
        k[0] = (byte)'V';
        BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(1), vol);
        return k;
    }
}
