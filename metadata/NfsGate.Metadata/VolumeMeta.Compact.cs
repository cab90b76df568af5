namespace NfsGate.Metadata;

/// <summary>
/// Rewriting a chunk's slice list after its visible bytes were copied into fewer, larger slices (compaction).
/// A separate interface rather than a member of <see cref="IVolumeMeta"/>: the data path checks for it, so engines and
/// test doubles without it simply get no compaction.
/// </summary>
public interface ISliceCompaction
{
    /// <summary>
    /// Compare-and-swap of one chunk's slice list: if it still equals <paramref name="expected"/>, it becomes
    /// <paramref name="replacement"/> (empty = the chunk key is removed: all hole). Slices appended since (writes and
    /// truncations while the copy was made: they are newer than every byte copied) stay on top of the replacement,
    /// so a busy file's compaction is not thrown away by the writes it races. The old slices are queued for
    /// deletion <paramref name="deleteGrace"/> from now, so reads that fetched the old list meanwhile still find their
    /// objects. Otherwise nothing changes and the replacement slices (already uploaded, now unreferenced) are queued
    /// for deletion at once. Ok = swapped, NotSync = the list changed meanwhile, Stale = the inode is gone.
    /// The replacement may keep old slices (whole or a part, by id with its own Pos/Off/Len): an id that appears in
    /// the replacement is never queued, neither when the swap succeeds nor when it fails, because its objects are
    /// still referenced.
    /// </summary>
    FsStatus ReplaceChunk(ulong ino, uint chunk, IReadOnlyList<Slice> expected, IReadOnlyList<Slice> replacement, TimeSpan deleteGrace);
}

public sealed partial class VolumeMeta : ISliceCompaction
{
    public FsStatus ReplaceChunk(ulong ino, uint chunk, IReadOnlyList<Slice> expected, IReadOnlyList<Slice> replacement, TimeSpan deleteGrace)
    {
        var now = Timespec.Now();
        ulong dueMs = (ulong)Math.Max(0, now.Seconds * 1000 + now.Nanos / 1_000_000 + (long)deleteGrace.TotalMilliseconds);
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var key = Keys.Chunk(_vol, ino, chunk);
            FsStatus status = FsStatus.Ok;
            Slice[] current = [];
            if (t.Get(Keys.Attr(_vol, ino)) is null) status = FsStatus.Stale;
            else
            {
                var stored = t.Get(key);
                if (stored is not null) current = Codec.DecodeSlices(stored);
                if (!StartsWith(current, expected)) status = FsStatus.NotSync;
            }
            if (status != FsStatus.Ok)
            {
                // Only the fresh copies are garbage: a kept old slice is still in the list (or in one that a racing
                // write, truncate or remove has since taken over, and that owner queues it when it drops it).
                var old = Ids(expected);
                old.UnionWith(Ids(current));
                for (int i = 0; i < replacement.Count; i++)
                    if (!old.Contains(replacement[i].Id)) tx.QueueDead(replacement[i]);
                return status;
            }
            var result = new List<Slice>(replacement.Count + current.Length - expected.Count);
            result.AddRange(replacement);
            for (int i = expected.Count; i < current.Length; i++) result.Add(current[i]);
            if (result.Count == 0) t.Delete(key);
            else t.Set(key, Codec.EncodeSlices(null, result));
            var kept = Ids(result);
            for (int i = 0; i < expected.Count; i++)
                if (!kept.Contains(expected[i].Id)) QueueDeadAt(t, expected[i], dueMs);
            return FsStatus.Ok;
        }, durable: false);
    }

    /// <summary>As MetaTxn.QueueDead, but due at <paramref name="dueMs"/> instead of now.</summary>
    private static void QueueDeadAt(Kv.IKvTxn t, Slice s, ulong dueMs)
    {
        if (s.Id == 0) return; // holes own no object
        var index = Keys.DeleteIndex(s.Id);
        if (t.Get(index) is not null) return; // already queued
        t.Set(Keys.DeleteQueue(dueMs, s.Id), Codec.EncodeU32(s.Size));
        t.Set(index, Codec.EncodeU64(dueMs));
    }

    private static HashSet<ulong> Ids(IReadOnlyList<Slice> slices)
    {
        var ids = new HashSet<ulong>();
        for (int i = 0; i < slices.Count; i++)
            if (slices[i].Id != 0) ids.Add(slices[i].Id);
        return ids;
    }

    private static bool StartsWith(Slice[] current, IReadOnlyList<Slice> expected)
    {
        if (current.Length < expected.Count) return false;
        for (int i = 0; i < expected.Count; i++)
            if (current[i] != expected[i]) return false;
        return true;
    }
}

/// <summary>The delete-queue entries whose time has come (entries queued with a grace period wait for it).</summary>
public static class DueDeletes
{
    public static IReadOnlyList<DeadSlice> Take(IMetadataStore store, int max)
    {
        if (max < 1) return [];
        // Queue keys sort by time, so "due" is a range: everything before now + 1 ms.
        ulong nowMs = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var end = Keys.DeleteQueue(nowMs + 1, 0);
        var page = store.Kv.Read(r => r.Scan(Keys.DeleteQueueStart, end, max));
        var result = new DeadSlice[page.Count];
        for (int i = 0; i < page.Count; i++)
            result[i] = new DeadSlice(Keys.SliceIdOfDeleteQueue(page[i].Key), Codec.DecodeU32(page[i].Value));
        return result;
    }
}
