using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NfsGate.Data;
using NfsGate.Data.Cache;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Issues the prefetches the <see cref="ReadStreams"/> detectors ask for, for the whole file system: a file range
/// becomes block keys (<see cref="FileBlocks"/>), each handed to the store's
/// <see cref="IPrefetchingStore.PrefetchAsync"/> and not awaited. At most
/// <see cref="FileSystemOptions.ReadAheadConcurrency"/> run at once and a key in flight or prefetched lately is not asked for
/// again, so many readers of one hot file cause one prefetch per block and read-ahead never queues unbounded work:
/// when the cap is reached the rest of the range is remembered (at most <see cref="MaxDeferred"/> ranges, each within
/// a stream's window) and issued as slots free up, and the stream's next read asks for it again too. Failures are
/// only logged at debug level: a prefetch is a hint, and the foreground read of that block retries and reports on its own.
/// </summary>
internal sealed class ReadAhead(IPrefetchingStore store, FileSystemOptions options, ILogger logger)
{
    /// <summary>
    /// Keys prefetched lately, not asked for again: the streams of many readers of one file overlap, and each
    /// would otherwise ask the store about blocks it already holds. 256 keys = 1 GiB of blocks. A remembered block
    /// may have been evicted since (cache pressure, or `warmup --evict`); trusting the memory then turned the next
    /// sequential pass over that file into one foreground fetch per block with no read-ahead at all (the cold S3
    /// read ran below a single GET stream), so when the store is the block cache, its index has the last word.
    /// </summary>
    private const int RecentKeys = 256;

    /// <summary>The block cache, when it is the store itself: asked (one dictionary lookup) whether a remembered key is still held.</summary>
    private readonly CachingObjectStore? _cache = store as CachingObjectStore;

    private readonly ConcurrentDictionary<string, byte> _inflight = new(StringComparer.Ordinal);
    private readonly Lock _recentLock = new();
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();

    /// <summary>
    /// Deferred ranges kept for issuing when a slot frees up: one per file region, oldest dropped beyond this. A
    /// freed slot used to stay idle until the next READ, and none comes while the reader waits on an earlier block
    /// (all its READs wait on the same one), so a block landing out of order left S3 one request short until then.
    /// </summary>
    internal const int MaxDeferred = 64;

    private readonly record struct Deferral(IVolumeMeta Meta, ulong Ino, long From, long To);

    private readonly Lock _deferredLock = new();
    private readonly List<Deferral> _deferrals = []; // oldest first
    private readonly CancellationTokenSource _stop = new();
    private readonly int _cap = options.ReadAheadConcurrency;
    private int _active;
    private long _issued, _deferred;

    /// <summary>Largest read-ahead window in bytes.</summary>
    public long MaxWindow { get; } = (long)options.ReadAheadBlocks * Layout.BlockSize;

    /// <summary>Prefetches handed to the store.</summary>
    public long Issued => Interlocked.Read(ref _issued);

    /// <summary>Blocks not prefetched (for now) because <see cref="FileSystemOptions.ReadAheadConcurrency"/> were in flight.</summary>
    public long Deferred => Interlocked.Read(ref _deferred);

    /// <summary>Prefetches in flight now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>
    /// Starts prefetches for the blocks holding [<paramref name="from"/>, <paramref name="to"/>) of the file.
    /// Returns the offset up to which every block was issued (or is in flight already): <paramref name="to"/>
    /// unless the cap was reached. Synchronous: the store is called before this returns.
    /// </summary>
    public long Issue(IVolumeMeta meta, ulong ino, long from, long to)
    {
        long issued = Start(meta, ino, from, to);
        if (issued < to) Defer(new Deferral(meta, ino, issued, to), newest: true);
        return issued;
    }

    /// <summary>Starts the blocks of [from, to) in order until the cap stops it; returns how far it got.</summary>
    private long Start(IVolumeMeta meta, ulong ino, long from, long to) =>
        FileBlocks.Visit(meta, ino, from, to, (block, _) => TryStart(block.Key));

    /// <summary>Ranges waiting for a free slot (tests).</summary>
    internal int DeferredRanges
    {
        get { lock (_deferredLock) return _deferrals.Count; }
    }

    /// <summary>
    /// False only when the cap is reached. A key in flight already counts as started, also when the cache is
    /// fetching it for someone else (a foreground read): joining that fetch costs no request, so it takes no slot.
    /// </summary>
    private bool TryStart(string key)
    {
        if (_inflight.ContainsKey(key) || (_cache is not null && _cache.IsFetching(key))
            || (IsRecent(key) && (_cache is null || _cache.IsCached(key)))) return true;
        if (Interlocked.Increment(ref _active) > _cap)
        {
            Interlocked.Decrement(ref _active);
            Interlocked.Increment(ref _deferred);
            return false;
        }
        if (!_inflight.TryAdd(key, 0))
        {
            Interlocked.Decrement(ref _active); // another reader started it meanwhile
            return true;
        }
        Interlocked.Increment(ref _issued);
        _ = RunAsync(key);
        return true;
    }

    private async Task RunAsync(string key)
    {
        bool done = false, waited = false;
        try
        {
            // The slot bounds requests to the inner store: it is free once the block cache holds the bytes in memory,
            // not only after their cache file is written (a reader arriving meanwhile joins that fetch).
            var prefetch = _cache is not null ? _cache.PrefetchAsync(key, untilCached: false, _stop.Token) : store.PrefetchAsync(key, _stop.Token);
            waited = !prefetch.IsCompleted;
            await prefetch.ConfigureAwait(false);
            done = true;
        }
        catch (Exception ex)
        {
            Log.PrefetchFailed(logger, key, ex);
        }
        finally
        {
            // Remembered before it leaves the in-flight set, so no reader sees it in neither and asks again.
            if (done) Remember(key);
            _inflight.TryRemove(key, out _);
            Interlocked.Decrement(ref _active);
            // Completed inside TryStart, the caller's walk goes on with the freed slot itself.
            if (waited) IssueDeferred();
        }
    }

    /// <summary>Fills free slots from the deferred ranges, oldest first, without waiting for a READ.</summary>
    private void IssueDeferred()
    {
        while (!_stop.IsCancellationRequested && Volatile.Read(ref _active) < _cap)
        {
            Deferral d;
            lock (_deferredLock)
            {
                if (_deferrals.Count == 0) return;
                d = _deferrals[0];
                _deferrals.RemoveAt(0);
            }
            long issued;
            try
            {
                issued = Start(d.Meta, d.Ino, d.From, d.To);
            }
            catch (Exception ex)
            {
                Log.ReadAheadFailed(logger, d.Meta.VolumeId, d.Ino, ex);
                continue;
            }
            if (issued < d.To)
            {
                Defer(d with { From = issued }, newest: false);
                return; // the cap is reached again
            }
        }
    }

    /// <summary>
    /// Keeps a range for <see cref="IssueDeferred"/>. A newer range of the same file overlapping an older one
    /// replaces it (the same stream asked again, from where it was cut off); <paramref name="newest"/> false puts a
    /// range back at the front, unless a newer overlapping one arrived meanwhile.
    /// </summary>
    private void Defer(Deferral d, bool newest)
    {
        lock (_deferredLock)
        {
            for (int i = _deferrals.Count - 1; i >= 0; i--)
            {
                var o = _deferrals[i];
                if (!ReferenceEquals(o.Meta, d.Meta) || o.Ino != d.Ino || o.To < d.From || d.To < o.From) continue;
                if (!newest) return;
                _deferrals.RemoveAt(i);
            }
            if (newest) _deferrals.Add(d);
            else _deferrals.Insert(0, d);
            if (_deferrals.Count > MaxDeferred) _deferrals.RemoveAt(0);
        }
    }

    private bool IsRecent(string key)
    {
        lock (_recentLock) return _recent.Contains(key);
    }

    private void Remember(string key)
    {
        lock (_recentLock)
        {
            if (!_recent.Add(key)) return;
            _recentOrder.Enqueue(key);
            if (_recentOrder.Count > RecentKeys) _recent.Remove(_recentOrder.Dequeue());
        }
    }

    /// <summary>Stops waiting for prefetches (shutdown); fetches the store shares with readers go on there.</summary>
    public void Stop() => _stop.Cancel();
}
