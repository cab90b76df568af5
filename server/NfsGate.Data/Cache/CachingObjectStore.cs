using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data.Cache;

/// <summary>
/// A read-through, write-through cache of immutable objects on local disk (an SSD), in front of a slower
/// <see cref="IObjectStore"/> (S3). Built for the data path's blocks: immutable, named with their size, at most 4 MiB.
/// <list type="bullet">
/// <item>A miss fetches the WHOLE object (one request instead of one per NFS READ) and serves the asked range from
/// memory; concurrent misses of one key share one fetch (single-flight), whoever asks.</item>
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
    private readonly Dictionary<string, TaskCompletionSource<byte[]?>> _inflight = new(StringComparer.Ordinal);
    private readonly Func<double> _freeRatio;
    private readonly CacheHandles _handles;
    private readonly FetchBuffers _fetchBuffers;

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
        Rebuild();
    }

    public IObjectStore Inner => _inner;
    public BlockCacheOptions Options => _options;
    public BlockCacheCounters Counters { get; } = new();

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
            var (entry, fetch) = LookupOrFetch(key, offset, destination.Length, countAccess: true);
            if (entry is not null)
            {
                if (TryReadCached(entry, offset, destination) is int read)
                {
                    Interlocked.Increment(ref Counters._hits);
                    return read;
                }
                continue;
            }
            Interlocked.Increment(ref Counters._misses);
            var data = await fetch!.WaitAsync(ct).ConfigureAwait(false);
            if (data is null) break; // too large to cache
            if (offset >= data.Length) return 0;
            int count = (int)Math.Min(destination.Length, data.Length - offset);
            data.AsSpan((int)offset, count).CopyTo(destination.Span);
            return count;
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
        await _inner.PutAsync(key, data, options, ct).ConfigureAwait(false);
        if (data.Length <= _options.MaxObjectSize) await Store(key, data, firstReadEnd: 0).ConfigureAwait(false);
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

    /// <summary>Fetches <paramref name="key"/> into the cache unless it is there (joining a fetch in flight). Not a read: no hit, miss or access is counted.</summary>
    public async Task PrefetchAsync(string key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var (_, fetch) = LookupOrFetch(key, 0, 0, countAccess: false);
        if (fetch is not null) await fetch.WaitAsync(ct).ConfigureAwait(false);
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
    /// misses of a key cause exactly one inner fetch.
    /// </summary>
    private (CacheEntry? Entry, Task<byte[]?>? Fetch) LookupOrFetch(string key, long offset, int length, bool countAccess)
    {
        TaskCompletionSource<byte[]?> tcs;
        lock (_lock)
        {
            if (_policy.Get(key) is { } e)
            {
                if (countAccess) _policy.Access(e, offset, length);
                return (e, null);
            }
            if (_inflight.TryGetValue(key, out var running)) return (null, running.Task);
            tcs = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _inflight.Add(key, tcs);
        }
        // A read continuing where the one that caused the fetch ends is the same pass (0 for a prefetch).
        _ = RunFetch(key, countAccess ? offset + length : 0, tcs);
        return (null, tcs.Task);
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
            return ReadCached(e, lease.Handle, offset, destination.Span);
        }
        catch (Exception x) when (x is FileNotFoundException or DirectoryNotFoundException)
        {
            // Evicted between the lookup and the open (files are deleted outside the lock).
            Drop(e);
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

    private void Drop(CacheEntry e)
    {
        lock (_lock)
        {
            if (!_policy.Remove(e)) return; // already gone, or replaced by a newer file
            PublishSize();
        }
        Discard(e);
    }

    /// <summary>For an entry out of the index: closes its kept handle, then deletes its file.</summary>
    private void Discard(CacheEntry e)
    {
        _handles.Close(e);
        TryDelete(e.Path);
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
    /// The single-flight fetch of <paramref name="key"/>: the whole object, or null if it is larger than
    /// <see cref="BlockCacheOptions.MaxObjectSize"/>. Runs to completion even if the caller that started it gives up,
    /// because others may be waiting on it; each caller waits with its own token.
    /// </summary>
    private async Task RunFetch(string key, long firstReadEnd, TaskCompletionSource<byte[]?> tcs)
    {
        byte[]? result = null;
        Exception? error = null;
        // One byte more than the cap tells "exactly at the cap" from "too large" without a HEAD round trip.
        var buffer = _fetchBuffers.Rent();
        try
        {
            Interlocked.Increment(ref Counters._innerFetches);
            int n = await _inner.GetAsync(key, 0, buffer.AsMemory(0, _options.MaxObjectSize + 1), CancellationToken.None).ConfigureAwait(false);
            if (n <= _options.MaxObjectSize) result = buffer.AsSpan(0, n).ToArray();
        }
        catch (Exception x)
        {
            error = x; // nothing gets cached: Store runs only after a successful fetch
        }
        finally
        {
            _fetchBuffers.Return(buffer);
        }
        try
        {
            if (result is not null) await Store(key, result, firstReadEnd).ConfigureAwait(false);
        }
        finally
        {
            // The entry (if any) is in the index before the fetch leaves _inflight, so no caller can slip in
            // between and fetch again.
            lock (_lock) _inflight.Remove(key);
            if (error is not null) tcs.SetException(error);
            else tcs.SetResult(result);
        }
    }

    /// <summary>
    /// Writes a cache file for <paramref name="data"/> and indexes it. Failures only cost the caching, never the
    /// caller's operation. A Put passes <paramref name="firstReadEnd"/> 0: writing is not reading, so data written
    /// and read back once stays on probation, like a scan.
    /// </summary>
    private async Task Store(string key, ReadOnlyMemory<byte> data, long firstReadEnd)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(key) > CacheFile.MaxKeyBytes) return;
        if (_freeRatio() < _options.MinFreeRatio)
        {
            // The disk is filling up (with our files or anyone's): give back what this object would have taken.
            Interlocked.Increment(ref Counters._skippedForSpace);
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
        var tmp = Path.Combine(_tempDir, name);
        var dir = Path.Combine(_dataDir, name[..2]);
        var path = Path.Combine(dir, name);
        try
        {
            using (var handle = File.OpenHandle(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, header.Length + data.Length))
            {
                await RandomAccess.WriteAsync(handle, [header, data], 0).ConfigureAwait(false);
            }
            Directory.CreateDirectory(dir);
            File.Move(tmp, path);
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
            added = _policy.Insert(entry, firstReadEnd, victims);
            PublishSize();
        }
        if (replaced is not null) Discard(replaced);
        if (!added) TryDelete(path);
        DeleteVictims(victims);
    }

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

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class CorruptCacheFileException() : Exception("cache file checksum mismatch");
}
