namespace NfsGate.Data.Cache;

/// <summary>Configuration of <see cref="CachingObjectStore"/>, the local-disk (SSD) cache of immutable blocks.</summary>
public sealed record BlockCacheOptions
{
    /// <summary>Directory of the cache; created if missing. Only the cache may write inside it.</summary>
    public required string Path { get; init; }

    /// <summary>Cap on the bytes of all cache files (headers included).</summary>
    public required long SizeBytes { get; init; }

    /// <summary>
    /// When the free share of the file system holding <see cref="Path"/> falls below this, the cache stops adding
    /// objects and gives space back (it evicts as much as it would have added). 0.1 keeps 10% free, which SSDs need
    /// for garbage collection and the rest of the system needs to keep working.
    /// </summary>
    public double MinFreeRatio { get; init; } = 0.1;

    /// <summary>Objects larger than this bypass the cache. Blocks are at most 4 MiB; 64 KiB slack keeps a full block cacheable.</summary>
    public int MaxObjectSize { get; init; } = (4 << 20) + (64 << 10);

    /// <summary>
    /// Checksum granularity: each cache file carries one CRC32C per segment, and a read verifies only the segments it
    /// touches. 64 KiB: a 4 KiB read costs at most one 64 KiB read + CRC (~10 µs), and a 4 MiB file carries 256 bytes of CRCs.
    /// </summary>
    public int SegmentSize { get; init; } = 64 << 10;

    /// <summary>Share of <see cref="SizeBytes"/> for S3-FIFO's small (probation) queue; the paper's 10%.</summary>
    public double SmallQueueRatio { get; init; } = 0.1;

    /// <summary>Free space ratio of the cache's file system; null = statvfs via <see cref="DriveInfo"/>. Replaceable for tests.</summary>
    public Func<double>? FreeSpaceRatio { get; init; }

    /// <summary>
    /// Cache files kept open for reading (least recently used closed first). Opening a file per hit cost more than
    /// reading 64 KiB from it; 256 handles cover 1 GiB of 4 MiB blocks, far under the usual 1024+ descriptor limit.
    /// </summary>
    public int MaxOpenFiles { get; init; } = 256;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new ArgumentException("cache path is required", nameof(Path));
        if (SizeBytes <= 0) throw new ArgumentException("cache size must be positive", nameof(SizeBytes));
        if (MinFreeRatio is < 0 or >= 1) throw new ArgumentException("MinFreeRatio must be in [0, 1)", nameof(MinFreeRatio));
        if (MaxObjectSize < 0 || MaxObjectSize > Array.MaxLength - 1) throw new ArgumentException("MaxObjectSize out of range", nameof(MaxObjectSize));
        if (SegmentSize < 512 || SegmentSize > (16 << 20)) throw new ArgumentException("SegmentSize must be in [512 B, 16 MiB]", nameof(SegmentSize));
        if (MaxOpenFiles < 0 || MaxOpenFiles > 65536) throw new ArgumentException("MaxOpenFiles must be in [0, 65536]", nameof(MaxOpenFiles));
        if (SmallQueueRatio is <= 0 or >= 1) throw new ArgumentException("SmallQueueRatio must be in (0, 1)", nameof(SmallQueueRatio));
    }
}
