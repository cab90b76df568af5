using Microsoft.Extensions.Logging;

namespace NfsGate.FileSystem;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "object store: {What} failed (attempt {Attempt}): {Error}; retrying")]
    public static partial void ObjectRetry(ILogger logger, string what, int attempt, string error);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "flush of volume {Volume} inode {Inode} failed; {Bytes} bytes stay buffered")]
    public static partial void FlushFailed(ILogger logger, uint volume, ulong inode, long bytes, Exception? ex);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "read of volume {Volume} inode {Inode} failed")]
    public static partial void ReadFailed(ILogger logger, uint volume, ulong inode, Exception ex);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "write to volume {Volume} inode {Inode} refused: {Bytes} bytes do not fit the write buffer (JUKEBOX)")]
    public static partial void BufferFull(ILogger logger, uint volume, ulong inode, long bytes);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "deleting objects of slice {Slice} failed")]
    public static partial void DeleteFailed(ILogger logger, ulong slice, Exception ex);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "background {Task} loop failed")]
    public static partial void LoopFailed(ILogger logger, string task, Exception ex);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "slice {Slice} of inode {Inode} is inconsistent: visible [{Off}, +{Len}) beyond its size {Size}")]
    public static partial void BadSlice(ILogger logger, ulong slice, ulong inode, uint off, uint len, uint size);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Error, Message = "object store: {What} failed after {Attempts} attempts: {Error}")]
    public static partial void ObjectFailed(ILogger logger, string what, int attempts, string error);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "flush of volume {Volume} inode {Inode} dropped: {Status}")]
    public static partial void FlushDropped(ILogger logger, uint volume, ulong inode, NfsGate.Metadata.FsStatus status);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "prefetch of {Key} failed")]
    public static partial void PrefetchFailed(ILogger logger, string key, Exception ex);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "read-ahead of volume {Volume} inode {Inode} failed")]
    public static partial void ReadAheadFailed(ILogger logger, uint volume, ulong inode, Exception ex);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "staging record {Path} is damaged ({Problem}); renamed to .bad, not replayed")]
    public static partial void StagingBad(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning, Message = "replaying {Records} staged writeback records ({Bytes} bytes) from {Dir}")]
    public static partial void StagingReplay(ILogger logger, int records, long bytes, string dir);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "commit of volume {Volume} inode {Inode} refused: {Bytes} bytes do not fit the staging area ({Used} used; JUKEBOX)")]
    public static partial void StagingFull(ILogger logger, uint volume, ulong inode, long bytes, long used);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Error, Message = "staging write for volume {Volume} inode {Inode} failed")]
    public static partial void StagingWriteFailed(ILogger logger, uint volume, ulong inode, Exception ex);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Warning, Message = "upload of staged record {Seq} (volume {Volume} inode {Inode}) failed: {Status}; retrying in {Seconds:0.###} s")]
    public static partial void StagingUploadFailed(ILogger logger, uint volume, ulong inode, ulong seq, NfsGate.Metadata.FsStatus status, double seconds, Exception? ex);

    [LoggerMessage(EventId = 3017, Level = LogLevel.Debug, Message = "compaction of volume {Volume} inode {Inode} chunk {Chunk}: {Before} slices -> {After}, {Status}")]
    public static partial void Compacted(ILogger logger, uint volume, ulong inode, uint chunk, int before, int after, NfsGate.Metadata.FsStatus status);
}
