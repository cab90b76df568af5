using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using NfsGate.Data;
using NfsGate.Metadata;

namespace NfsGate.FileSystem.Compaction;

/// <summary>
/// Background compaction of fragmented chunks. Every flush notifies the chunks it added slices to; a chunk with more
/// than <see cref="FileSystemOptions.CompactSliceCount"/> small slices has the visible bytes of its fragmented
/// block-sized windows copied into one new slice per contiguous run (holes stay holes: no object is written for them;
/// intact windows keep referencing the old slices, see <see cref="CompactionPlan"/>), and the slice list is swapped in one metadata
/// transaction only if it did not change meanwhile (<see cref="ISliceCompaction.ReplaceChunk"/>). A write racing the
/// copy makes the swap fail; the copy is then thrown away and the chunk looked at again. The old objects go on the
/// delete queue with a grace period, for reads that fetched the old list just before the swap.
/// </summary>
internal sealed class SliceCompactor(GatewayFileSystem fs)
{
    private readonly Channel<(IVolumeMeta Meta, ulong Ino, uint Chunk, bool Sweep)> _queue =
        Channel.CreateUnbounded<(IVolumeMeta, ulong, uint, bool)>(new UnboundedChannelOptions { SingleReader = true });
    // Dedup: a chunk flushed a thousand times while queued is compacted once. Sweeps (below) dedup apart, so a
    // queued ordinary look at a chunk does not swallow its sweep.
    private readonly ConcurrentDictionary<(uint, ulong, uint), byte> _queued = new();
    private readonly ConcurrentDictionary<(uint, ulong, uint), byte> _sweeps = new();
    // Chunks whose last plan was not worth copying, with the slice count it was made at. Under random writes a chunk
    // is notified by every flush while its list grows from the threshold to the hard limit, and each look decoded the
    // list and planned it (O(n log n) on up to a thousand references): a quarter of the server's CPU under 4 KiB random
    // writes. A deferred chunk is planned again only once its list has grown by an eighth.
    private readonly ConcurrentDictionary<(uint, ulong, uint), int> _deferred = new();
    private long _compacted, _conflicts, _swept, _skipped;
    private int _running;

    /// <summary>Bound on <see cref="_deferred"/>: past it the memo is cleared (a look costs a plan again, nothing worse).</summary>
    internal const int MaxDeferred = 65_536;

    /// <summary>A swap failed after a bounded number of retries is left until the chunk's next flush notifies it again.</summary>
    private const int MaxConflictRetries = 3;

    public long Compacted => Interlocked.Read(ref _compacted);
    public long Conflicts => Interlocked.Read(ref _conflicts);
    /// <summary>Chunks queued by the inline sweep (for metrics: inline bytes compaction did not move on its own).</summary>
    public long Sweeps => Interlocked.Read(ref _swept);
    /// <summary>Looks at a chunk that skipped planning: its list grew too little since a plan found no copy worth it.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Nothing queued and nothing being compacted by the background loop (tests wait for this).</summary>
    internal bool Idle => _queued.IsEmpty && _sweeps.IsEmpty && Volatile.Read(ref _running) == 0;

    /// <summary>Test hook: runs after the new slices are uploaded, right before the swap.</summary>
    internal Func<Task>? BeforeSwap;

    public void Notify(IVolumeMeta meta, ulong ino, List<(uint Chunk, Slice Slice)> added)
    {
        if (meta is not ISliceCompaction) return;
        uint last = uint.MaxValue;
        foreach (var (chunk, _) in added)
        {
            if (chunk == last) continue;
            last = chunk;
            if (_queued.TryAdd((meta.VolumeId, ino, chunk), 0) && !_queue.Writer.TryWrite((meta, ino, chunk, false)))
                _queued.TryRemove((meta.VolumeId, ino, chunk), out _);
        }
    }

    /// <summary>
    /// Queues a sweep of every chunk holding inline bytes older than <see cref="FileSystemOptions.InlineSweepAge"/>:
    /// the plan rewrites their windows whatever the copy costs, so inline bytes that compaction found not yet worth
    /// moving (a few 4 KiB writes over a large file) reach objects anyway, at most one rewrite per chunk per sweep.
    /// The rows name their chunk, so this also finds what an earlier run left. Returns how many were queued.
    /// </summary>
    public int QueueSweeps()
    {
        ulong cutoff = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (ulong)fs.Options.InlineSweepAge.TotalMilliseconds;
        int queued = 0;
        foreach (var row in fs.Meta.InlineRows(MaxSweepRows))
        {
            if (row.WrittenMs > cutoff || !_sweeps.TryAdd((row.Volume, row.Inode, row.Chunk), 0)) continue;
            if (_queue.Writer.TryWrite((fs.VolumeMeta(row.Volume), row.Inode, row.Chunk, true))) queued++;
            else _sweeps.TryRemove((row.Volume, row.Inode, row.Chunk), out _);
        }
        Interlocked.Add(ref _swept, queued);
        return queued;
    }

    /// <summary>
    /// Inline rows a sweep looks at, oldest first: the scan reads their bytes too (up to 64 KiB each), so it stays at a
    /// few MiB however many rows there are; what is left waits for the next sweep.
    /// </summary>
    private const int MaxSweepRows = 256;

    /// <summary>Queues sweeps every <see cref="FileSystemOptions.InlineSweepAge"/> (half of it: a row waits at most 1.5 ages).</summary>
    public async Task SweepLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(fs.Options.InlineSweepAge / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try { QueueSweeps(); }
                catch (Exception ex) { Log.LoopFailed(fs.Logger, "inline sweep", ex); }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Stop() => _queue.Writer.TryComplete();

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var (meta, ino, chunk, sweep) in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _running);
                (sweep ? _sweeps : _queued).TryRemove((meta.VolumeId, ino, chunk), out _);
                try
                {
                    for (int attempt = 0; attempt < MaxConflictRetries; attempt++)
                        if (await CompactAsync(meta, ino, chunk, ct, sweep).ConfigureAwait(false) != FsStatus.NotSync) break;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Log.LoopFailed(fs.Logger, "compaction", ex);
                }
                finally
                {
                    Interlocked.Decrement(ref _running);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Compacts one chunk if it has more than the configured number of slices and compaction makes it meaningfully
    /// shorter, or moves inline bytes into objects. Ok also when there was nothing to do; NotSync when a write raced
    /// the copy; Io when a read or upload failed. <paramref name="sweep"/>: move every inline slice out, whatever it costs.
    /// </summary>
    public async Task<FsStatus> CompactAsync(IVolumeMeta meta, ulong ino, uint chunk, CancellationToken ct, bool sweep = false)
    {
        int threshold = fs.Options.CompactSliceCount;
        if (threshold == 0 || meta is not ISliceCompaction swap) return FsStatus.Ok;
        var st = meta.ReadChunk(ino, chunk, out var slices);
        long inlineBytes = InlineBytes(slices);
        // Only small slices fragment a chunk: a chunk written sequentially in block-sized flushes reads as fast as one
        // slice, and rewriting it would upload every byte twice (and compete with client writes for upload slots).
        if (st != FsStatus.Ok || (SmallSlices(slices) <= threshold && slices.Count <= HardSliceLimit && inlineBytes == 0)) return st;

        bool force = slices.Count > HardSliceLimit;
        bool forceInline = inlineBytes > 0 && (sweep || inlineBytes > MaxInlineBytesPerChunk);
        var key = (meta.VolumeId, ino, chunk);
        if (!force && !forceInline && _deferred.TryGetValue(key, out int planned) && StillDeferred(planned, slices.Count))
        {
            Interlocked.Increment(ref _skipped);
            return FsStatus.Ok;
        }
        var plan = CompactionPlan.Make(slices, meta.ChunkSize, force ? HardSliceLimit / 2 : int.MaxValue, MaxCopyPerFragmentByte, SmallSliceBytes, forceInline);
        // Worth a copy only if it moves inline bytes out, or leaves fewer slices, and either few enough not to trigger
        // again at once or at most half as many (a forced one: three quarters). Scattered small writes can leave as
        // many visible runs as slices; filling the gaps with zeros to merge them would turn holes into objects.
        int after = plan.ResultCount;
        bool worth = plan.Copy.Count > 0 && (plan.MovesInline || (after < slices.Count
            && (after <= threshold || after <= slices.Count / 2 || (force && after <= slices.Count * 3 / 4))));
        if (!worth)
        {
            if (_deferred.Count >= MaxDeferred) _deferred.Clear();
            _deferred[key] = slices.Count;
            return FsStatus.Ok;
        }
        _deferred.TryRemove(key, out _);

        long chunkStart = (long)chunk * meta.ChunkSize;
        var runs = new List<(long Off, long End)>(plan.Copy.Count);
        foreach (var (pos, end) in plan.Copy) runs.Add((chunkStart + pos, chunkStart + end));
        var (stored, added, _) = await fs.Uploader.StoreAsync(meta, new ChunkSource(fs, meta, ino, runs), UploadLane.Background, ct).ConfigureAwait(false);
        if (stored != FsStatus.Ok) return stored;
        if (BeforeSwap is { } hook) await hook().ConfigureAwait(false);

        // Kept references first, in the plan's order (overlapping ones in a window keep their write order), then the
        // copies, which lie in other windows.
        var replacement = new List<Slice>(plan.Kept.Count + added.Count);
        replacement.AddRange(plan.Kept);
        foreach (var (_, slice) in added) replacement.Add(slice);
        st = swap.ReplaceChunk(ino, chunk, slices, replacement, fs.Options.CompactDeleteGrace);
        Log.Compacted(fs.Logger, meta.VolumeId, ino, chunk, slices.Count, replacement.Count, st);
        if (st == FsStatus.Ok) Interlocked.Increment(ref _compacted);
        else if (st == FsStatus.NotSync) Interlocked.Increment(ref _conflicts);
        // Unreferenced copies (failed swap) are due for deletion now; replaced slices after the grace period.
        fs.Deleter.Wake();
        return st;
    }

    /// <summary>
    /// Whether a chunk planned at <paramref name="planned"/> slices, not worth a copy then, is skipped at
    /// <paramref name="count"/>: until its list has grown by an eighth (at least 8). A list shorter than at the plan was
    /// rewritten meanwhile (a truncate, a sweep, another gateway's compaction): the old verdict says nothing about it.
    /// </summary>
    internal static bool StillDeferred(int planned, int count) => count >= planned && count < planned + Math.Max(planned / 8, 8);

    /// <summary>
    /// A window is copied only if that costs at most this many bytes per visible fragment byte merged away. Random
    /// 4 KiB overwrites on a large file leave one big slice and many tiny ones; copying whole runs for them uploaded
    /// thousands of times the bytes the client wrote (seen on S3: a 256 MiB file grew 916 MiB of new objects under
    /// 300 overwrites). Past <see cref="HardSliceLimit"/> the fragmented windows are copied whatever the cost.
    /// 4 (it was 8 with 64 MiB chunks): a 4 MiB chunk's list may grow to a thousand references before it costs more
    /// than a 64 MiB chunk's did, so random 4 KiB writes can wait until a quarter of a window is fragments, and then
    /// cost 4 bytes copied per byte written (8 at 8; host A/B, 16 writes in flight: within noise of 2).
    /// </summary>
    internal const int MaxCopyPerFragmentByte = 4;
    /// <summary>
    /// Past this many slices a chunk is compacted whatever the copy costs, down to half: its slice list must stay
    /// bounded. 1,024: a READ resolves only the slices overlapping it, so a long list costs it a linear decode (about
    /// 24 KiB here), while each forced compaction of random 4 KiB writes copies ~4 MiB per 64 writes it merges; at 256
    /// the copies (64 MiB per 256 writes) took the disk from the writes they were tidying up.
    /// </summary>
    internal const int HardSliceLimit = 1024;

    /// <summary>A slice shorter than this is a fragment (a quarter block: 1 MiB).</summary>
    internal const int SmallSliceBytes = Layout.BlockSize / 4;

    /// <summary>
    /// Inline bytes a chunk may reference before compaction moves them out whatever the copy costs: 8 MiB, two
    /// blocks' worth. Random writes reach the cheap-copy point of their windows long before (512 KiB of fragments per
    /// 4 MiB window), so this only bounds the metadata a pathological pattern could fill.
    /// </summary>
    internal const long MaxInlineBytesPerChunk = 8L << 20;

    /// <summary>Bytes of the distinct inline slices the chunk references (what their rows hold).</summary>
    private static long InlineBytes(IReadOnlyList<Slice> slices)
    {
        long n = 0;
        HashSet<ulong>? seen = null;
        for (int i = 0; i < slices.Count; i++)
        {
            var s = slices[i];
            if (!s.IsInline) continue;
            // A packed inline slice is referenced once per piece, usually side by side: skip repeats cheaply.
            if (i > 0 && slices[i - 1].Id == s.Id) continue;
            if ((seen ??= []).Add(s.Id)) n += s.Size;
        }
        return n;
    }

    private static int SmallSlices(IReadOnlyList<Slice> slices)
    {
        int n = 0;
        foreach (var s in slices)
            if (s.Len < SmallSliceBytes) n++;
        return n;
    }

    /// <summary>The chunk's current visible bytes, read block by block through the normal read path.</summary>
    private sealed class ChunkSource(GatewayFileSystem fs, IVolumeMeta meta, ulong ino, List<(long Off, long End)> runs) : IUploadSource
    {
        public IReadOnlyList<(long Off, long End)> Runs() => runs;

        public async ValueTask<Lease> GetRangeAsync(long off, int length, CancellationToken ct)
        {
            var rented = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                // The list may have changed since it was read; then these bytes are newer, and the swap fails anyway.
                var st = await fs.Reader.ReadAsync(meta, ino, (ulong)off, rented.AsMemory(0, length), ct).ConfigureAwait(false);
                if (st != FsStatus.Ok) throw new ObjectStoreException($"compaction read of inode {ino} at {off}: {st}");
                return new Lease(rented.AsMemory(0, length), rented);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(rented);
                throw;
            }
        }
    }
}
