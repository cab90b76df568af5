namespace NfsGate.Data.Cache;

/// <summary>What the cache did since it was opened. Thread-safe; read any time (e.g. by a metrics exporter).</summary>
public sealed class BlockCacheCounters
{
    internal long _hits, _misses, _evictions, _bytesCached, _entries, _checksumFailures, _innerFetches, _ioErrors, _skippedForSpace, _recycledFills;

    /// <summary>Gets served from a cache file.</summary>
    public long Hits => Volatile.Read(ref _hits);

    /// <summary>Gets that had to wait for the inner store (single-flight waiters included).</summary>
    public long Misses => Volatile.Read(ref _misses);

    /// <summary>Objects dropped to make room (cap or low free space); not deletes, overwrites or corrupt files.</summary>
    public long Evictions => Volatile.Read(ref _evictions);

    /// <summary>Bytes of the cache files now indexed (headers included); never above the cap.</summary>
    public long BytesCached => Volatile.Read(ref _bytesCached);

    /// <summary>Objects now cached.</summary>
    public long Entries => Volatile.Read(ref _entries);

    /// <summary>Cache reads whose CRC32C did not match: the file was dropped and the object refetched.</summary>
    public long ChecksumFailures => Volatile.Read(ref _checksumFailures);

    /// <summary>Whole-object fetches from the inner store (one per single-flight group).</summary>
    public long InnerFetches => Volatile.Read(ref _innerFetches);

    /// <summary>Cache files that could not be written or read for a reason other than a checksum (disk full, I/O error); the caller was served from the inner store regardless.</summary>
    public long IoErrors => Volatile.Read(ref _ioErrors);

    /// <summary>Objects not cached because free space was below <see cref="BlockCacheOptions.MinFreeRatio"/>.</summary>
    public long SkippedForSpace => Volatile.Read(ref _skippedForSpace);

    /// <summary>Cache files written over the kept file of a dropped entry instead of a new file (<see cref="RecycledFiles"/>).</summary>
    public long RecycledFills => Volatile.Read(ref _recycledFills);

    public override string ToString() =>
        $"hits={Hits} misses={Misses} evictions={Evictions} bytes={BytesCached} entries={Entries} checksumFailures={ChecksumFailures} innerFetches={InnerFetches} ioErrors={IoErrors} skippedForSpace={SkippedForSpace} recycledFills={RecycledFills}";
}
