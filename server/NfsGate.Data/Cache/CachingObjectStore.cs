using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data.Cache;

/// <summary>
/// A read-through, write-through cache of immutable objects on local disk (an SSD), in front of a slower
/// <see cref="IObjectStore"/> (S3). Built for the data path's blocks: immutable, named with their size, at most 4 MiB.
/// <list type="bullet">
/// <item>A miss fetches the WHOLE object (one request instead of one per NFS READ) and serves the asked range from
/// memory; concurrent misses of one key share one fetch (single-flight), whoever asks.</item>
/// <item>Readers waiting on a fetch are answered from its buffer as soon as the bytes arrive; the cache file is
/// written after that (at most <see cref="MaxDetachedFills"/> at once, then readers wait for the file again, so a
/// slow disk cannot pile up fetch buffers). Until its file is indexed the key stays "in flight": a reader arriving
/// meanwhile is served from the same buffer, never by a second fetch.</item>
/// <item>Put writes to the inner store first (that is the durable copy), then caches the bytes, so freshly written
/// data is hot. Delete removes from both.</item>
/// <item>Every cache file carries CRC32Cs (per 64 KiB segment, see <see cref="CacheFile"/>); every read checks those of
/// the segments it touches; a mismatch drops the file and refetches, counted in <see cref="BlockCacheCounters.ChecksumFailures"/>.</item>
/// <item>Hits read synchronously through handles kept open (<see cref="CacheHandles"/>): the page cache answers most
/// of them in microseconds, less than a file open or a hop to another thread costs.</item>
/// <item>Files are written to a temp name and renamed, so a crash never leaves a half file under a live name. They are
/// not fsync'ed: after a power loss a file may be renamed but empty or torn, which its header CRC (at startup) or
/// segment CRCs (on read) catch; the inner store still has the data.</item>
/// <item>Eviction is S3-FIFO (<see cref="S3FifoPolicy"/>), so a one-off scan cannot flush the hot set.</item>
/// <item>The files of evicted (not corrupt) entries are kept, within the cap, and overwritten by later fills
/// (<see cref="RecycledFiles"/>): cheaper than deleting one file and creating another.</item>
/// <item>On startup the index is rebuilt from the files (warm after a restart) and the cap enforced.</item>
/// </list>
/// Overwriting a key through this store replaces the cached copy; an overwrite made behind its back (directly in
/// the inner store) is not seen. The data path never overwrites, which is why no invalidation exists.
/// </summary>
public sealed class CachingObjectStore : IObjectStore, IPrefetchingStore
{
    private const string DataDir = "data";
    private const string TempDir = "tmp";

    private readonly IObjectStore _inner;
    private readonly BlockCacheOptions _options;
    private readonly string _dataDir, _tempDir;
    private readonly Lock _lock = new();
    private readonly S3FifoPolicy _policy;
    private readonly Dictionary<string, Fetch> _inflight = new(StringComparer.Ordinal);
    private readonly Func<double> _freeRatio;
    private readonly CacheHandles _handles;
    private readonly FetchBuffers _fetchBuffers;
    private readonly RecycledFiles _recycled;

    /// <summary>
    /// Cache-file writes that may run after their readers were answered. 8 × 4 MiB = 32 MiB of fetch buffers at most
    /// waiting for the disk, twice what the read-ahead (4) and foreground reads of a few streams keep in flight.
    /// </summary>
    internal const int MaxDetachedFills = 8;
    private int _detachedFills;

    /// <summary>Opens (or creates) the cache directory and rebuilds the index from the files in it.</summary>
    public CachingObjectStore(IObjectStore inner, BlockCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _inner = inner;
        _options = options;
        var root = Path.GetFullPath(options.Path);
        _dataDir = Path.Combine(root, DataDir);
        _tempDir = Path.Combine(root, TempDir);
        Directory.CreateDirectory(_dataDir);
        Directory.CreateDirectory(_tempDir);
        _policy = new S3FifoPolicy(options.SizeBytes, options.SmallQueueRatio);
        _freeRatio = options.FreeSpaceRatio ?? (() => FreeRatioOf(root));
        _handles = new CacheHandles(options.MaxOpenFiles);
        // 16 idle buffers cover the read-ahead of several streams; a bigger burst allocates and lets the GC take them back.
        _fetchBuffers = new FetchBuffers(options.MaxObjectSize + 1, keep: 16);
        _recycled = new RecycledFiles(_tempDir, maxFiles: 4096);
        Rebuild();
    }

    public IObjectStore Inner => _inner;
    public BlockCacheOptions Options => _options;
    public BlockCacheCounters Counters { get; } = new();

    /// <summary>Idle fetch buffers kept for the next miss (tests: every buffer comes back once its readers are done).</summary>
    internal int FetchBuffersKept => _fetchBuffers.Kept;

    /// <summary>Files of dropped entries kept for the next fills (tests).</summary>
    internal RecycledFiles Recycled => _recycled;

    /// <summary>
    /// Completes once no fetch is in flight: every file being written is indexed (or given up) and its evictions are
    /// done. Tests await it before deleting the cache directory: a fill detached from its reader otherwise keeps
    /// moving evicted files into it while the delete walks it, and the directory is left behind.
    /// </summary>
    internal async Task WhenIdleAsync()
    {
        while (true)
        {
            Task[] filing;
            lock (_lock) filing = [.. _inflight.Values.Select(f => f.Filed.Task)];
            if (filing.Length == 0) return;
            await Task.WhenAll(filing).ConfigureAwait(false);
        }
    }

    /// <summary>Tests: runs with a cache file's handle in hand, just before it is read (to race a drop against the read).</summary>
    internal Action<string>? BeforeCachedRead;

    /// <summary>Cache files open for reading now.</summary>
    public int OpenFiles => _handles.Count;

    public string Describe() => $"cache({_options.Path}, {_options.SizeBytes} B) over {_inner.Describe()}";

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= _options.MaxObjectSize) return await _inner.GetAsync(key, offset, destination, ct).ConfigureAwait(false);
        // A cached file can vanish (evicted) or fail its checksum between lookup and read: then look again, which
        // now finds a fetch to join or starts one. Twice is enough unless the cache thrashes; then go direct.
        for (int round = 0; round < 2; round++)
        {
            var (entry, fetch, landed) = LookupOrFetch(key, offset, destination.Length, countAccess: true);
            if (entry is not null)
            {
                if (TryReadCached(entry, offset, destination) is int read)
                {
                    Interlocked.Increment(ref Counters._hits);
                    return read;
                }
                continue;
            }
            // LookupOrFetch took a reference on the fetch's buffer for us: released once copied (or given up).
            try
            {
                // Joining a fetch whose bytes are in memory already is a hit: nothing waits for the inner store.
                if (landed) Interlocked.Increment(ref Counters._hits);
                else Interlocked.Increment(ref Counters._misses);
                await fetch!.Landed.Task.WaitAsync(ct).ConfigureAwait(false);
                if (fetch.TooLarge) break;
                if (offset >= fetch.Length) return 0;
                int count = (int)Math.Min(destination.Length, fetch.Length - offset);
                fetch.Buffer.AsSpan((int)offset, count).CopyTo(destination.Span);
                Volatile.Write(ref fetch.NextOffset, offset + count);
                return count;
            }
            finally
            {
                Release(fetch!);
            }
        }
        return await _inner.GetAsync(key, offset, destination, ct).ConfigureAwait(false);
    }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(key, data, ObjectPutOptions.Default, ct);

    /// <summary>The hints (storage class) are for the inner store; the cached copy is the same either way.</summary>
    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Drop any older version first: if caching the new bytes fails below, no stale copy may remain.
        Evict(key);
        // The cache file is written while the object uploads, so a stable write waits for the slower of the two, not
        // their sum. Nothing reads the key before the upload returns (the slice that names it is committed after),
        // and if the upload fails the copy is dropped again.
        var caching = data.Length <= _options.MaxObjectSize ? Store(key, data, fetch: null) : Task.CompletedTask;
        try
        {
            await _inner.PutAsync(key, data, options, ct).ConfigureAwait(false);
        }
        catch
        {
            await caching.ConfigureAwait(false);
            Evict(key);
            throw;
        }
        await caching.ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Evict(key);
        await _inner.DeleteAsync(key, ct).ConfigureAwait(false);
    }

    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            if (_policy.Get(key) is { } e) return ValueTask.FromResult<long?>(e.Length);
        }
        return _inner.HeadAsync(key, ct);
    }

    public IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default) => _inner.ListAsync(prefix, ct);

    /// <summary>Whether <paramref name="key"/> is cached now (for warm-up planning; it may be evicted a moment later).</summary>
    public Task<bool> IsCachedAsync(string key) => Task.FromResult(IsCached(key));

    /// <summary>Whether <paramref name="key"/> is cached now (it may be evicted a moment later). Not an access.</summary>
    public bool IsCached(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock) return _policy.Get(key) is not null;
    }

    /// <summary>Whether a fetch of <paramref name="key"/> is in flight now (its bytes may have landed, its file not yet). Not an access.</summary>
    public bool IsFetching(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock) return _inflight.ContainsKey(key);
    }

    /// <summary>Fetches <paramref name="key"/> into the cache unless it is there (joining a fetch in flight). Not a read: no hit, miss or access is counted.</summary>
    public Task PrefetchAsync(string key, CancellationToken ct = default) => PrefetchAsync(key, untilCached: true, ct);

    /// <summary>
    /// As <see cref="PrefetchAsync(string, CancellationToken)"/>; with <paramref name="untilCached"/> false it completes
    /// as soon as the bytes are in memory, while the cache file may still be written (read-ahead: its slot is for
    /// the inner store's requests, not the local disk's write). A read arriving meanwhile joins the fetch.
    /// </summary>
    public async Task PrefetchAsync(string key, bool untilCached, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var (_, fetch, _) = LookupOrFetch(key, 0, 0, countAccess: false);
        if (fetch is null) return;
        await fetch.Landed.Task.WaitAsync(ct).ConfigureAwait(false);
        if (untilCached) await fetch.Filed.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Drops <paramref name="key"/> from the cache only (the inner store keeps it). True if it was cached.</summary>
    public bool Evict(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        CacheEntry? e;
        lock (_lock)
        {
            e = _policy.Get(key);
            if (e is null || !_policy.Remove(e)) return false;
            PublishSize();
        }
        Discard(e);
        return true;
    }

    /// <summary>
    /// In one critical section: the cached entry, else the fetch in flight, else a new fetch. Because a fetch
    /// indexes its file before it leaves <see cref="_inflight"/>, every caller finds one or the other: concurrent
    /// misses of a key cause exactly one inner fetch. A reader (<paramref name="countAccess"/>) gets the fetch with
    /// a reference on its buffer taken, and must <see cref="Release"/> it. Landed: the fetch was joined with its
    /// bytes in memory already.
    /// </summary>
    private (CacheEntry? Entry, Fetch? Fetch, bool Landed) LookupOrFetch(string key, long offset, int length, bool countAccess)
    {
        Fetch fetch;
        lock (_lock)
        {
            if (_policy.Get(key) is { } e)
            {
                if (countAccess) _policy.Access(e, offset, length);
                return (e, null, false);
            }
            if (_inflight.TryGetValue(key, out var running))
            {
                if (countAccess) running.AddRef();
                return (null, running, running.Landed.Task.IsCompletedSuccessfully);
            }
            // A read continuing where the one that caused the fetch ends is the same pass (0 for a prefetch).
            fetch = new Fetch(countAccess ? offset + length : 0);
            if (countAccess) fetch.AddRef();
            _inflight.Add(key, fetch);
        }
        // Started on the pool: the inner store's synchronous start (an S3 request is built, signed and handed to the
        // HTTP stack before its first await) must not run on the caller's thread, which may be a connection's receive
        // thread that should be back reading the next call (RpcConnection.Blocking.cs).
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Self.RunFetch(s.Key, s.Fetch), (Self: this, Key: key, Fetch: fetch), preferLocal: false);
        return (null, fetch, false);
    }

    /// <summary>
    /// Completes when every fetch in flight now has written its cache file (or given up on it). A read returns as
    /// soon as its bytes are in memory, before that: warm-up and tests that look at the files wait here.
    /// </summary>
    public Task SettleAsync()
    {
        Task[] filing;
        lock (_lock) filing = [.. _inflight.Values.Select(f => f.Filed.Task)];
        return Task.WhenAll(filing);
    }

    /// <summary>Drops a reference on <paramref name="fetch"/>'s buffer; the last one returns it to the pool.</summary>
    private void Release(Fetch fetch)
    {
        if (fetch.DropRef() && fetch.Buffer is { } b) _fetchBuffers.Return(b);
    }

    /// <summary>
    /// Reads from a cache file; null if the file is gone (evicted meanwhile), corrupt or unreadable, having dropped it.
    /// Synchronous on purpose: .NET runs an async read of a regular file as a blocking pread on a pool thread anyway,
    /// so awaiting one only adds a thread hop to a read the page cache usually answers at once.
    /// </summary>
    private int? TryReadCached(CacheEntry e, long offset, Memory<byte> destination)
    {
        try
        {
            using var lease = _handles.Rent(e);
            BeforeCachedRead?.Invoke(e.Key);
            return ReadCached(e, lease.Handle, offset, destination.Span);
        }
        catch (Exception x) when (x is FileNotFoundException or DirectoryNotFoundException)
        {
            // Evicted between the lookup and the open (files are deleted outside the lock).
            Drop(e);
            return null;
        }
        catch (CorruptCacheFileException) when (Volatile.Read(ref e.HandlesClosed))
        {
            // Dropped while this read ran: its file may hold another object by now (RecycledFiles). Not corruption.
            return null;
        }
        catch (CorruptCacheFileException)
        {
            Interlocked.Increment(ref Counters._checksumFailures);
            Drop(e);
            return null;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref Counters._ioErrors);
            Drop(e);
            return null;
        }
    }

    /// <summary>Takes a file that failed a read out of the index, and deletes it (its disk blocks are suspect).</summary>
    private void Drop(CacheEntry e)
    {
        lock (_lock)
        {
            if (!_policy.Remove(e)) return; // already gone, or replaced by a newer file
            PublishSize();
        }
        Discard(e, reuse: false);
    }

    /// <summary>
    /// For an entry out of the index: closes its kept handle, then keeps its file for a later fill if the cap has room
    /// for it beside the indexed files (<see cref="RecycledFiles"/>), else deletes it.
    /// </summary>
    private void Discard(CacheEntry e, bool reuse = true)
    {
        _handles.Close(e);
        if (reuse) _recycled.Retire(e.Path, e.Size, UnindexedRoom);
        else TryDelete(e.Path);
    }

    /// <summary>
    /// Verified read. Whole segments inside the range are read straight into <paramref name="destination"/> in one
    /// call and checked there; a partly wanted segment at either end goes through a pooled buffer.
    /// </summary>
    private static int ReadCached(CacheEntry e, SafeFileHandle handle, long offset, Span<byte> destination)
    {
        if (offset >= e.Length || destination.Length == 0) return 0;
        long end = Math.Min(e.Length, offset + destination.Length);
        int seg = e.SegmentSize;
        long i = offset / seg, last = (end - 1) / seg;
        while (i <= last)
        {
            long segStart = i * seg;
            int segLen = SegmentLength(e, i);
            if (segStart >= offset && segStart + segLen <= end)
            {
                long j = i;
                while (j < last && (j + 1) * seg + SegmentLength(e, j + 1) <= end) j++;
                long runEnd = j * seg + SegmentLength(e, j);
                var target = destination.Slice((int)(segStart - offset), (int)(runEnd - segStart));
                ReadExactly(handle, target, e.HeaderLength + segStart);
                for (long k = i; k <= j; k++)
                {
                    var part = target.Slice((int)((k - i) * seg), SegmentLength(e, k));
                    if (Crc32C.Compute(part) != e.Crcs[k]) throw new CorruptCacheFileException();
                }
                i = j + 1;
            }
            else
            {
                var buffer = ArrayPool<byte>.Shared.Rent(segLen);
                try
                {
                    var whole = buffer.AsSpan(0, segLen);
                    ReadExactly(handle, whole, e.HeaderLength + segStart);
                    if (Crc32C.Compute(whole) != e.Crcs[i]) throw new CorruptCacheFileException();
                    long from = Math.Max(offset, segStart), to = Math.Min(end, segStart + segLen);
                    whole.Slice((int)(from - segStart), (int)(to - from)).CopyTo(destination[(int)(from - offset)..]);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                i++;
            }
        }
        return (int)(end - offset);
    }

    private static int SegmentLength(CacheEntry e, long index) => (int)Math.Min(e.SegmentSize, e.Length - index * e.SegmentSize);

    private static void ReadExactly(SafeFileHandle handle, Span<byte> target, long fileOffset)
    {
        int total = 0;
        while (total < target.Length)
        {
            int n = RandomAccess.Read(handle, target[total..], fileOffset + total);
            if (n == 0) throw new CorruptCacheFileException(); // truncated
            total += n;
        }
    }

    /// <summary>
    /// The single-flight fetch of <paramref name="key"/>: the whole object into a pooled buffer, or "too large" if
    /// it exceeds <see cref="BlockCacheOptions.MaxObjectSize"/>. Readers are answered from the buffer as soon as it
    /// is filled (<see cref="Fetch.Landed"/>), then the cache file is written from the same buffer and indexed
    /// (<see cref="Fetch.Filed"/>); the buffer goes back to the pool when the last reader has copied out of it.
    /// Runs to completion even if the caller that started it gives up, because others may be waiting on it; each
    /// caller waits with its own token.
    /// </summary>
    private async Task RunFetch(string key, Fetch fetch)
    {
        Exception? error = null;
        fetch.Buffer = _fetchBuffers.Rent();
        try
        {
            Interlocked.Increment(ref Counters._innerFetches);
            // One byte more than the cap tells "exactly at the cap" from "too large" without a HEAD round trip.
            int n = await _inner.GetAsync(key, 0, fetch.Buffer.AsMemory(0, _options.MaxObjectSize + 1), CancellationToken.None).ConfigureAwait(false);
            fetch.Length = n;
            fetch.TooLarge = n > _options.MaxObjectSize;
        }
        catch (Exception x)
        {
            error = x; // nothing gets cached: Store runs only after a successful fetch
        }
        bool store = error is null && !fetch.TooLarge;
        // Answer the readers before the disk write unless too many writes are detached already (bounded memory).
        bool early = !store || Interlocked.Increment(ref _detachedFills) <= MaxDetachedFills;
        if (store && !early) Interlocked.Decrement(ref _detachedFills);
        if (early) fetch.Land(error);
        try
        {
            // A detached fill goes to the pool: when the inner store answers synchronously (a local directory)
            // this method still runs on the reader's thread, which must not also pay for the free-space check,
            // the checksums and the write of the cache file it was answered before.
            var bytes = fetch.Buffer.AsMemory(0, fetch.Length);
            if (store && early) await Task.Run(() => Store(key, bytes, fetch)).ConfigureAwait(false);
            else if (store) await Store(key, bytes, fetch).ConfigureAwait(false);
        }
        finally
        {
            if (store && early) Interlocked.Decrement(ref _detachedFills);
            // The entry (if any) is in the index before the fetch leaves _inflight, so no caller can slip in
            // between and fetch again; no reader can join (take a reference) after this either.
            lock (_lock) _inflight.Remove(key);
            if (!early) fetch.Land(error);
            Release(fetch);
            fetch.Filed.SetResult(); // a failure is reported through Landed
        }
    }

    /// <summary>
    /// One single-flight fetch. <see cref="Buffer"/> is shared by every reader that joined; it is counted: the
    /// fetch holds one reference until its cache file is written, each joined reader one until it has copied.
    /// </summary>
    private sealed class Fetch(long firstReadEnd)
    {
        /// <summary>The bytes are in <see cref="Buffer"/> (or too large, or the fetch failed).</summary>
        public readonly TaskCompletionSource Landed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The cache file is written and indexed (or was not), and the key left the in-flight table. Never faults.</summary>
        public readonly TaskCompletionSource Filed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[]? Buffer;
        public int Length;
        public bool TooLarge;

        /// <summary>End of the latest read served from the buffer: where the entry's access tracking starts.</summary>
        public long NextOffset = firstReadEnd;

        private int _refs = 1;

        public void AddRef() => Interlocked.Increment(ref _refs);

        /// <summary>True for the last reference.</summary>
        public bool DropRef() => Interlocked.Decrement(ref _refs) == 0;

        public void Land(Exception? error)
        {
            if (error is null) Landed.SetResult();
            else Landed.SetException(error);
        }

    }

    /// <summary>
    /// Writes a cache file for <paramref name="data"/> and indexes it. Failures only cost the caching, never the
    /// caller's operation. A Put passes no fetch (access tracking starts at 0): writing is not reading, so data written
    /// and read back once stays on probation, like a scan. A fetch passes itself: reads served from its buffer before
    /// the file was indexed count as the first pass.
    /// </summary>
    private async Task Store(string key, ReadOnlyMemory<byte> data, Fetch? fetch)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(key) > CacheFile.MaxKeyBytes) return;
        if (_freeRatio() < _options.MinFreeRatio)
        {
            // The disk is filling up (with our files or anyone's): give back what this object would have taken.
            Interlocked.Increment(ref Counters._skippedForSpace);
            _recycled.TrimTo(0);
            var freed = new List<CacheEntry>();
            lock (_lock)
            {
                _policy.ShrinkTo(_policy.Used - CacheFile.HeaderLength(0, data.Length, _options.SegmentSize) - data.Length, freed);
                PublishSize();
            }
            DeleteVictims(freed);
            return;
        }

        var (header, crcs) = CacheFile.BuildHeader(key, data.Span, _options.SegmentSize);
        if (header.Length + data.Length > _options.SizeBytes) return;
        var name = Guid.NewGuid().ToString("N");
        var reused = _recycled.TryTake();
        var tmp = reused ?? Path.Combine(_tempDir, name);
        var dir = Path.Combine(_dataDir, name[..2]);
        var path = Path.Combine(dir, name);
        long fileLength = header.Length + data.Length;
        try
        {
            using (var handle = reused is null
                       ? File.OpenHandle(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, fileLength)
                       : File.OpenHandle(tmp, FileMode.Open, FileAccess.Write))
            {
                await RandomAccess.WriteAsync(handle, [header, data], 0).ConfigureAwait(false);
                if (reused is not null) RandomAccess.SetLength(handle, fileLength); // the kept file may have been longer
            }
            Directory.CreateDirectory(dir);
            File.Move(tmp, path);
            if (reused is not null) Interlocked.Increment(ref Counters._recycledFills);
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref Counters._ioErrors);
            TryDelete(tmp);
            return;
        }

        var entry = new CacheEntry(key, path, data.Length, _options.SegmentSize, header.Length, crcs);
        var victims = new List<CacheEntry>();
        CacheEntry? replaced;
        bool added;
        lock (_lock)
        {
            replaced = _policy.Get(key);
            if (replaced is not null) _policy.Remove(replaced);
            added = _policy.Insert(entry, fetch is null ? 0 : Volatile.Read(ref fetch.NextOffset), victims);
            PublishSize();
        }
        if (replaced is not null) Discard(replaced);
        if (!added) TryDelete(path);
        DeleteVictims(victims);
        // Kept files and indexed ones together stay under the cap.
        _recycled.TrimTo(UnindexedRoom);
    }

    /// <summary>The part of the cap the indexed files leave: the most kept files may take.</summary>
    private long UnindexedRoom => _options.SizeBytes - Counters.BytesCached;

    private void DeleteVictims(List<CacheEntry> victims)
    {
        foreach (var v in victims) Discard(v);
        Interlocked.Add(ref Counters._evictions, victims.Count);
    }

    /// <summary>Under the lock: mirrors the policy's totals into the counters.</summary>
    private void PublishSize()
    {
        Volatile.Write(ref Counters._bytesCached, _policy.Used);
        Volatile.Write(ref Counters._entries, _policy.Count);
    }

    /// <summary>
    /// Indexes the files left by a previous run: invalid ones (torn, foreign, too large for today's options) and
    /// temp files are deleted; of two files for one key the newer wins; then the cap is enforced, oldest out first.
    /// </summary>
    private void Rebuild()
    {
        foreach (var f in Directory.EnumerateFiles(_tempDir)) TryDelete(f);
        var found = new List<(CacheEntry Entry, DateTime Written)>();
        foreach (var file in new DirectoryInfo(_dataDir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            CacheFile.Header? header = null;
            try
            {
                using var handle = File.OpenHandle(file.FullName, FileMode.Open, FileAccess.Read);
                header = CacheFile.TryReadHeader(handle, file.Length, _options.MaxObjectSize);
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
            }
            if (header is not { } h)
            {
                TryDelete(file.FullName);
                continue;
            }
            found.Add((new CacheEntry(h.Key, file.FullName, h.Length, h.SegmentSize, h.HeaderLength, h.Crcs), file.LastWriteTimeUtc));
        }
        found.Sort((a, b) =>
        {
            int c = a.Written.CompareTo(b.Written);
            return c != 0 ? c : string.CompareOrdinal(a.Entry.Path, b.Entry.Path); // deterministic on equal times
        });
        var victims = new List<CacheEntry>();
        lock (_lock)
        {
            foreach (var (entry, _) in found)
            {
                if (_policy.Get(entry.Key) is { } older)
                {
                    _policy.Remove(older);
                    victims.Add(older);
                }
                _policy.InsertWarm(entry);
            }
            _policy.ShrinkTo(_options.SizeBytes, victims);
            PublishSize();
        }
        foreach (var v in victims) TryDelete(v.Path);
    }

    private static double FreeRatioOf(string path)
    {
        try
        {
            var drive = new DriveInfo(path);
            return drive.TotalSize > 0 ? (double)drive.AvailableFreeSpace / drive.TotalSize : 1.0;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 1.0; // unknown: do not let a failed statvfs disable the cache
        }
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class CorruptCacheFileException() : Exception("cache file checksum mismatch");
}
