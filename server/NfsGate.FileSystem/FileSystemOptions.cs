namespace NfsGate.FileSystem;

/// <summary>Tuning of the data path. Defaults suit one server process with a few GiB of RAM.</summary>
public sealed class FileSystemOptions
{
    /// <summary>Cap on unflushed write data across all files. 256 MiB = 64 full 4 MiB blocks in flight.</summary>
    public long MaxBufferBytes { get; set; } = 256L << 20;

    /// <summary>How long a WRITE waits for buffer space before answering JUKEBOX (the client retries later).</summary>
    public TimeSpan MaxWriteWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Above this many buffered bytes, every write also queues its file for a background flush.</summary>
    public long BackgroundFlushBytes { get; set; } = 64L << 20;

    /// <summary>Data dirty for longer than this is flushed in the background even if small.</summary>
    public TimeSpan MaxDirtyAge { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the background loop looks for old dirty data and idle buffers.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Files flushed in the background at the same time.</summary>
    public int FlushWorkers { get; set; } = 2;

    /// <summary>Block uploads in flight, all files together.</summary>
    public int UploadConcurrency { get; set; } = 8;

    /// <summary>
    /// Block uploads of background upkeep (compaction) in flight, on top of <see cref="UploadConcurrency"/> and never
    /// taken from it; they also wait while any client upload is queued (see UploadLanes). 2: enough to compact a
    /// fragmented chunk in a few round trips, small next to the client's 8.
    /// </summary>
    public int CompactUploadConcurrency { get; set; } = 2;

    /// <summary>Ranged block fetches in flight, all reads together.</summary>
    public int ReadConcurrency { get; set; } = 16;

    /// <summary>
    /// Largest read-ahead window of a sequential reader, in 4 MiB blocks; 0 disables read-ahead. 8 blocks = 32 MiB:
    /// at 1 GB/s and ~50 ms object-store latency about 12 blocks' worth (50 MiB) must be on the way to never wait,
    /// but one reader should not fill the cache with what it may never read; the window starts at one block and
    /// doubles per sequential READ, so short files and random readers pay nothing. Needs a store with
    /// <see cref="NfsGate.Data.IPrefetchingStore"/> (the block cache); others get no read-ahead.
    /// </summary>
    public int ReadAheadBlocks { get; set; } = 8;

    /// <summary>Block prefetches in flight, all files together (on top of <see cref="ReadConcurrency"/>, so read-ahead never delays a READ's own fetches).</summary>
    public int ReadAheadConcurrency { get; set; } = 4;

    /// <summary>Attempts per object-store call before the operation fails with IO.</summary>
    public int ObjectRetries { get; set; } = 3;

    /// <summary>Delay before the second attempt; doubled for each further one.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Dead slices taken from the delete queue per round.</summary>
    public int DeleteBatch { get; set; } = 256;

    /// <summary>Pause of the deleter when the queue is empty or a round failed.</summary>
    public TimeSpan DeleteIdleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When COMMIT (and a FILE_SYNC/DATA_SYNC write) may answer: <see cref="CommitMode.Strict"/> once the data is in the
    /// object store and its slices in the metadata; <see cref="CommitMode.Writeback"/> once the data is fsync'ed in
    /// <see cref="StagingPath"/> on this node, uploaded in the background (see <see cref="CommitMode"/> for the risk).
    /// </summary>
    public CommitMode CommitMode { get; set; } = CommitMode.Strict;

    /// <summary>Directory of the writeback journal (staged data awaiting upload). Needed for writeback.</summary>
    public string? StagingPath { get; set; }

    /// <summary>
    /// Cap on staged bytes not yet uploaded. A COMMIT that would pass it waits up to <see cref="MaxWriteWait"/> for
    /// uploads to make room, then answers JUKEBOX. 4 GiB = a minute of 64 MiB/s ingest while the object store is away.
    /// </summary>
    public long MaxStagingBytes { get; set; } = 4L << 30;

    /// <summary>Files whose staged data is uploaded at the same time (each file's records go up in order, one at a time).</summary>
    public int StagingUploaders { get; set; } = 2;

    /// <summary>Longest pause between attempts to upload a staged record while the object store keeps failing.</summary>
    public TimeSpan StagingMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Graceful shutdown in writeback mode uploads the staged records for at most this long; what is left stays in
    /// <see cref="StagingPath"/> and is replayed at the next start. 20 s: well inside systemd's default 90 s stop
    /// timeout, and a minute's worth of uploads at the rate that fills <see cref="MaxStagingBytes"/> would not fit anyway.
    /// </summary>
    public TimeSpan StagingDrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A chunk with more slices than this is compacted in the background (its visible bytes rewritten as few slices);
    /// 0 disables compaction. Reads cost O(slices²) per chunk to resolve and one GET per visible piece, so 16 small
    /// flushes' worth is where rewriting starts to pay for itself.
    /// </summary>
    public int CompactSliceCount { get; set; } = 16;

    /// <summary>
    /// A flush's packed small pieces of one chunk, at most this many bytes together, are committed inline in the
    /// metadata instead of as an object (see <see cref="SliceUploader.StoreAsync"/>); compaction later moves them into
    /// objects. 0 disables it. 64 KiB: room for sixteen 4 KiB random writes, more than a group of 16 in-flight
    /// FILE_SYNC writes forms (4–8 measured), while a sequential writer's flushes (whole blocks) never qualify, so
    /// metadata holds only small, short-lived bytes.
    /// </summary>
    public int InlineMaxBytes { get; set; } = 64 << 10;

    /// <summary>
    /// Inline bytes older than this are moved into objects by a sweep, even where compaction would not copy them yet
    /// (a few scattered writes to a big file). 30 s: a burst of random writes is merged by compaction meanwhile, and a
    /// file written once and left alone still has its bytes in object storage within a minute.
    /// </summary>
    public TimeSpan InlineSweepAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long replaced slices' objects stay readable after a compaction (for reads that fetched the old list).</summary>
    public TimeSpan CompactDeleteGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws on values that would make the data path hang or spin (zero caps, no workers).</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBufferBytes, nameof(MaxBufferBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxWriteWait.Ticks, nameof(MaxWriteWait));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TickInterval.Ticks, nameof(TickInterval));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(FlushWorkers, nameof(FlushWorkers));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(UploadConcurrency, nameof(UploadConcurrency));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CompactUploadConcurrency, nameof(CompactUploadConcurrency));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ReadConcurrency, nameof(ReadConcurrency));
        ArgumentOutOfRangeException.ThrowIfNegative(ReadAheadBlocks, nameof(ReadAheadBlocks));
        // 256 blocks = 1 GiB ahead of one reader: far beyond any useful window, and keeps the offset arithmetic small.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReadAheadBlocks, 256, nameof(ReadAheadBlocks));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ReadAheadConcurrency, nameof(ReadAheadConcurrency));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ObjectRetries, nameof(ObjectRetries));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DeleteBatch, nameof(DeleteBatch));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxStagingBytes, nameof(MaxStagingBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(StagingUploaders, nameof(StagingUploaders));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(StagingMaxRetryDelay.Ticks, nameof(StagingMaxRetryDelay));
        ArgumentOutOfRangeException.ThrowIfNegative(StagingDrainTimeout.Ticks, nameof(StagingDrainTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(CompactSliceCount, nameof(CompactSliceCount));
        ArgumentOutOfRangeException.ThrowIfNegative(InlineMaxBytes, nameof(InlineMaxBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InlineMaxBytes, 1 << 20, nameof(InlineMaxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(InlineSweepAge, TimeSpan.FromMilliseconds(10), nameof(InlineSweepAge));
        ArgumentOutOfRangeException.ThrowIfNegative(CompactDeleteGrace.Ticks, nameof(CompactDeleteGrace));
        if (CommitMode == CommitMode.Writeback && string.IsNullOrEmpty(StagingPath))
            throw new ArgumentException("writeback commit mode needs a staging directory", nameof(StagingPath));
    }
}

/// <summary>What COMMIT waits for.</summary>
public enum CommitMode
{
    /// <summary>Uploaded to the object store and committed in the metadata: survives the loss of this node.</summary>
    Strict,

    /// <summary>
    /// Fsync'ed to this node's staging directory with a journal record; uploaded in the background. RISK: until uploaded,
    /// acknowledged data lives only on this node's disk (a lost disk loses it) and other gateways cannot read it.
    /// </summary>
    Writeback,
}
