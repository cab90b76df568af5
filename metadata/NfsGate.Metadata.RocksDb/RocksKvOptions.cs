namespace NfsGate.Metadata.RocksDb;

/// <summary>Tuning knobs for <see cref="RocksKvStore"/>. The defaults suit a metadata store of up to a few GiB.</summary>
public sealed record RocksKvOptions
{
    /// <summary>64 MiB: holds the index, filter and hot data blocks of ~10M inodes' attributes (~100 B each, 1 GiB of SSTs,
    /// whose index + bloom blocks are ~2-3% = ~30 MiB) with room left for hot directories.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>32 MiB memtable: at ~150 B per metadata key that is ~200k writes between flushes.</summary>
    public long WriteBufferBytes { get; init; } = 32L << 20;

    /// <summary>10 bits per key gives a ~1% false-positive rate: a LOOKUP of a missing name rarely touches disk.</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>LZ4 on SST blocks: metadata keys share long prefixes, LZ4 costs little CPU. Off = no compression.</summary>
    public bool Compress { get; init; } = true;

    /// <summary>Background flush + compaction threads. The machine is shared with the NFS server, so few.</summary>
    public int BackgroundJobs { get; init; } = 2;
}
