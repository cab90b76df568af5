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

    /// <summary>
    /// WAL files kept for reuse once their memtable is flushed. A durable commit is a WAL fdatasync; into a fresh
    /// file each append grows it, so ext4 must commit its journal (and with it every other file's pending metadata,
    /// such as new block objects) before the sync returns. A reused file is overwritten within its length, so the
    /// sync writes only the data: 0.31–0.33 ms against 0.45–0.49 ms per sync under 4 KiB FILE_SYNC writes
    /// (perf/README.md, "Largest gaps", item 7). Costs up to this many memtable-sized files (32 MiB each) of disk.
    /// 0 turns reuse off.
    /// </summary>
    public int RecycledWalFiles { get; init; } = 2;

    /// <summary>Background flush + compaction threads. The machine is shared with the NFS server, so few.</summary>
    public int BackgroundJobs { get; init; } = 2;
}
