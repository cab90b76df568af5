using NfsGate.Data;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Maintenance;

namespace NfsGate.FileSystem.Maintenance;

/// <summary>
/// Finds (and with <see cref="GcOptions.Delete"/>, deletes) block objects no slice references: leftovers of uploads
/// whose AddSlices never happened (a crash, a failed commit) or of a delete queue entry lost to a bug. Dry run by default.
/// Also inline slice rows (bytes in the metadata) that nothing references or queues.
///
/// An object is leaked when its key parses as a block key, its slice id is referenced by no chunk of any volume, is not
/// in the delete queue, and is ≤ the bound. The order is what makes the id rule safe without object times:
/// 1. read the slice counter C ('Gs') — every slice id ≤ C was allocated before this moment;
/// 2. list chunks/;
/// 3. scan references (all chunk lists + the delete queue) in one snapshot taken AFTER the listing.
/// A writer allocates ids, uploads the blocks, then commits them with one AddSlices. An id &gt; C was allocated after
/// step 1, so it may belong to an upload in flight: never touched. An id ≤ C whose AddSlices committed before step 3
/// is seen as referenced; one freed since is in the delete queue or already deleted (deleting again is idempotent).
/// What remains unsafe is an upload with an id ≤ C still in flight at step 3 — a very slow writer. Hence
/// <see cref="GcOptions.MaxSliceId"/>: pass the counter saved by a run made longer ago than any upload can take
/// (the writer's retry budget), and only ids allocated before that are candidates. Without it, delete only with
/// writers stopped. JuiceFS uses object modification times for the same guard; IObjectStore does not expose them.
/// Holds the listing in memory (about 100 bytes per object).
/// </summary>
public static class GarbageCollector
{
    private const long ProgressEvery = 10_000;

    private readonly record struct Listed(string Key, ulong SliceId, int BlockIndex, long Size);

    public static async Task<GcResult> RunAsync(IKvStore kv, IObjectStore store, GcOptions? options = null,
        Action<MaintenanceProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new GcOptions();
        var report = DataChecker.Serialized(progress);
        var result = new GcResult { DryRun = !options.Delete };

        result.SliceCounter = kv.Read(KvScan.LastSliceId);
        result.SliceIdBound = options.MaxSliceId is { } max ? Math.Min(max, result.SliceCounter) : result.SliceCounter;

        var listed = new List<Listed>();
        await foreach (var (key, size) in store.ListAsync(BlockKeys.Prefix, ct).ConfigureAwait(false))
        {
            result.ObjectsListed++;
            result.BytesListed += size;
            if (BlockKeys.TryParse(key, out ulong id, out int index, out _)) listed.Add(new Listed(key, id, index, size));
            else result.Problems.Add(new Problem(ProblemKind.UnparsableObjectKey, 0, 0, $"object {key} is not a block key: left alone") { ObjectKey = key });
            if (result.ObjectsListed % ProgressEvery == 0) report?.Invoke(new MaintenanceProgress("list", result.ObjectsListed, -1));
        }
        report?.Invoke(new MaintenanceProgress("list", result.ObjectsListed, result.ObjectsListed));

        // After the listing, on purpose: see the class comment.
        var (referenced, queued, rows) = kv.Read(r => (ReferencedSliceIds(r, ct), KvScan.QueuedSliceIds(r, ct), InlineRows(r, ct)));
        report?.Invoke(new MaintenanceProgress("references", referenced.Count, referenced.Count));

        foreach (var o in listed)
        {
            if (referenced.Contains(o.SliceId)) result.ReferencedObjects++;
            else if (queued.Contains(o.SliceId)) result.QueuedObjects++;
            else if (o.SliceId > result.SliceIdBound) result.NewerObjects++;
            else
            {
                result.Leaked.Add(new LeakedObject(o.Key, o.SliceId, o.BlockIndex, o.Size));
                result.LeakedBytes += o.Size;
            }
        }
        // Inline rows are read in the same snapshot as the references, and a row is only ever written together with its
        // references: one unreferenced and unqueued here can never be referenced again (ids are not reused).
        foreach (var (id, length) in rows)
            if (!referenced.Contains(id) && !queued.Contains(id))
            {
                result.LeakedInlineRows.Add(id);
                result.LeakedInlineBytes += length;
            }
        if (options.Delete && result.LeakedInlineRows.Count > 0)
        {
            kv.Transact(t =>
            {
                foreach (var id in result.LeakedInlineRows) t.Delete(Keys.InlineData(id));
                return 0;
            }, durable: true);
            result.InlineRowsDeleted = result.LeakedInlineRows.Count;
        }
        if (!options.Delete || result.Leaked.Count == 0) return result;

        long deleted = 0;
        await Parallel.ForEachAsync(result.Leaked, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = ct },
            async (o, c) =>
            {
                await store.DeleteAsync(o.Key, c).ConfigureAwait(false);
                long n = Interlocked.Increment(ref deleted);
                if (n % ProgressEvery == 0) report?.Invoke(new MaintenanceProgress("delete", n, result.Leaked.Count));
            }).ConfigureAwait(false);
        result.Deleted = deleted;
        report?.Invoke(new MaintenanceProgress("delete", deleted, result.Leaked.Count));
        return result;
    }

    /// <summary>Every inline row's slice id and byte count.</summary>
    private static List<(ulong Id, long Length)> InlineRows(IKvReader r, CancellationToken ct)
    {
        var rows = new List<(ulong, long)>();
        KvScan.ForEach(r, Keys.InlineDataStart, Keys.InlineDataEnd,
            (k, v) => rows.Add((Keys.SliceIdOfInlineData(k), Codec.TryInlineBytes(v, out var bytes) ? bytes.Length : 0)), ct);
        return rows;
    }

    /// <summary>
    /// Every slice id any chunk lists. An undecodable chunk list makes the run fail: its slices are unknown, so any
    /// object might be one of them, and deleting on a guess loses data. (fsck reports the bad value.)
    /// </summary>
    private static HashSet<ulong> ReferencedSliceIds(IKvReader r, CancellationToken ct)
    {
        var ids = new HashSet<ulong>();
        KvScan.ForEachChunk(r, (vol, ino, chunk, value) =>
        {
            Slice[] slices;
            try { slices = Codec.DecodeSlices(value); }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"gc: volume {vol} inode {ino} chunk {chunk} has an undecodable slice list; run fsck", ex);
            }
            foreach (var s in slices)
                if (s.Id != 0) ids.Add(s.Id);
        }, ct);
        return ids;
    }
}
