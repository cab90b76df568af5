using NfsGate.Data;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Maintenance;

namespace NfsGate.FileSystem.Maintenance;

/// <summary>
/// fsck: the metadata check (<see cref="MetadataChecker"/>), then, unless skipped, a HEAD of every block of every
/// slice a chunk references: each must exist with the length its key and slice size say. A missing block is
/// re-checked against a fresh snapshot before it is reported, so a file deleted (and its blocks removed by the
/// background deleter) while fsck ran is not a false alarm. Read-only. Store outages propagate as exceptions: an
/// unreachable store says nothing about whether a block exists. An inline slice (bytes in the metadata) is checked
/// as one block whose "object" is its metadata row.
/// </summary>
public static class DataChecker
{
    private const long ProgressEvery = 1000;

    private readonly record struct Owner(uint Volume, ulong Inode, uint Chunk);

    private sealed class SliceRefs(uint size)
    {
        public readonly uint Size = size;
        public readonly List<Owner> Owners = [];
    }

    private readonly record struct Block(ulong SliceId, int Index, int Length);

    public static async Task<FsckResult> CheckAsync(IKvStore kv, IObjectStore store, FsckOptions? options = null,
        Action<MaintenanceProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new FsckOptions();
        var report = Serialized(progress);
        var (meta, slices) = kv.Read(r =>
        {
            var m = MetadataChecker.Check(r, report, ct);
            return (m, options.CheckObjects ? CollectSlices(r, ct) : []);
        });
        var result = new FsckResult { Metadata = meta, ObjectsChecked = options.CheckObjects };
        result.Problems.AddRange(meta.Problems);
        if (!options.CheckObjects) return result;

        long total = 0;
        foreach (var s in slices.Values) total += ObjectKeys.BlockCount(s.Size);
        var bad = new List<(Block Block, long? Actual)>();
        long done = 0;
        await Parallel.ForEachAsync(Blocks(slices), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = ct },
            async (b, c) =>
            {
                // An inline slice's bytes are a metadata row, checked the same way (a malformed row counts as missing).
                long? size = Slice.IsInlineId(b.SliceId)
                    ? InlineLength(kv.Read(r => r.Get(Keys.InlineData(b.SliceId))))
                    : await store.HeadAsync(ObjectKeys.BlockKey(b.SliceId, b.Index, b.Length), c).ConfigureAwait(false);
                if (size != b.Length)
                    lock (bad) bad.Add((b, size));
                long n = Interlocked.Increment(ref done);
                if (n % ProgressEvery == 0) report?.Invoke(new MaintenanceProgress("objects", n, total));
            }).ConfigureAwait(false);
        result.BlocksChecked = done;
        report?.Invoke(new MaintenanceProgress("objects", done, total));

        bad.Sort((x, y) => x.Block.SliceId != y.Block.SliceId ? x.Block.SliceId.CompareTo(y.Block.SliceId) : x.Block.Index.CompareTo(y.Block.Index));
        foreach (var (b, actual) in bad)
        {
            var refs = slices[b.SliceId];
            var live = StillReferenced(kv, b.SliceId, refs.Owners);
            if (live.Count == 0) continue; // freed while we looked: not a problem
            if (actual is null) result.BlocksMissing++;
            else result.BlocksWrongLength++;
            string key = Slice.IsInlineId(b.SliceId) ? $"inline row {b.SliceId:x}" : ObjectKeys.BlockKey(b.SliceId, b.Index, b.Length);
            foreach (var o in live)
            {
                var kind = actual is null ? ProblemKind.MissingBlock : ProblemKind.WrongBlockLength;
                string what = actual is null ? "is missing" : $"is {actual} bytes, expected {b.Length}";
                result.Problems.Add(new Problem(kind, o.Volume, o.Inode,
                    $"inode {o.Inode} chunk {o.Chunk}: slice {b.SliceId} block {b.Index} ({key}) {what}") { Chunk = o.Chunk, ObjectKey = key });
            }
        }
        return result;
    }

    private static long? InlineLength(byte[]? row) => row is not null && Codec.TryInlineBytes(row, out var bytes) ? bytes.Length : null;

    /// <summary>Slice id → size and the chunks that reference it (holes excluded; undecodable lists are metadata problems).</summary>
    private static Dictionary<ulong, SliceRefs> CollectSlices(IKvReader r, CancellationToken ct)
    {
        var slices = new Dictionary<ulong, SliceRefs>();
        KvScan.ForEachChunk(r, (vol, ino, chunk, value) =>
        {
            Slice[] list;
            try { list = Codec.DecodeSlices(value); }
            catch (InvalidDataException) { return; }
            foreach (var s in list)
            {
                if (s.Id == 0) continue;
                if (!slices.TryGetValue(s.Id, out var refs)) slices[s.Id] = refs = new SliceRefs(s.Size);
                var owner = new Owner(vol, ino, chunk);
                if (!refs.Owners.Contains(owner)) refs.Owners.Add(owner);
            }
        }, ct);
        return slices;
    }

    private static IEnumerable<Block> Blocks(Dictionary<ulong, SliceRefs> slices)
    {
        foreach (var (id, refs) in slices)
        {
            int n = ObjectKeys.BlockCount(refs.Size);
            for (int i = 0; i < n; i++) yield return new Block(id, i, ObjectKeys.BlockLength(refs.Size, i));
        }
    }

    /// <summary>The owners whose chunk still lists the slice in a fresh snapshot.</summary>
    private static List<Owner> StillReferenced(IKvStore kv, ulong sliceId, List<Owner> owners) =>
        kv.Read(r =>
        {
            var live = new List<Owner>();
            foreach (var o in owners)
            {
                var v = r.Get(Keys.Chunk(o.Volume, o.Inode, o.Chunk));
                if (v is null) continue;
                try
                {
                    if (Array.Exists(Codec.DecodeSlices(v), s => s.Id == sliceId)) live.Add(o);
                }
                catch (InvalidDataException) { }
            }
            return live;
        });

    /// <summary>The callback may be called from several HEAD completions at once; callers should not have to care.</summary>
    internal static Action<MaintenanceProgress>? Serialized(Action<MaintenanceProgress>? progress)
    {
        if (progress is null) return null;
        var gate = new object();
        return p =>
        {
            lock (gate) progress(p);
        };
    }
}
