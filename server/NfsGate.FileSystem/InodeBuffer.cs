using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// A file's write buffer. Lock order, always: <see cref="FlushLock"/> → <see cref="Gate"/> → <see cref="Lock"/>.
/// <list type="bullet">
/// <item><see cref="FlushLock"/> (async): one flush or truncate at a time, so slices reach the metadata in order.</item>
/// <item><see cref="Gate"/>: writers hold it shared across BeginWrite + buffering, a truncate holds it exclusively,
/// so a write is wholly before or wholly after a truncate (never sized by one and trimmed by the other).</item>
/// <item><see cref="Lock"/>: short critical sections on the extents themselves.</item>
/// </list>
/// A flush moves <see cref="Current"/> to <see cref="Flushing"/>; writes meanwhile go into a fresh generation.
/// </summary>
internal sealed class InodeBuffer(ulong ino)
{
    public readonly ulong Ino = ino;
    public readonly SemaphoreSlim FlushLock = new(1, 1);
    public readonly ReaderWriterLockSlim Gate = new(LockRecursionPolicy.NoRecursion);
    public readonly Lock Lock = new();

    public DirtyExtents Current = new();
    /// <summary>The generation being uploaded; still read-visible until its slices are in the metadata.</summary>
    public DirtyExtents? Flushing;
    /// <summary>Environment.TickCount64 when <see cref="Current"/> last went from clean to dirty; 0 when clean.</summary>
    public long DirtySince;
    /// <summary>Removed from the volume's map (idle, or the inode was freed): users must fetch a fresh buffer.</summary>
    public bool Retired;
    /// <summary>The inode was freed: a flush in progress throws its data away instead of putting it back.</summary>
    public bool Dropped;
    /// <summary>1 while queued for a background flush (dedup).</summary>
    public int Queued;

    /// <summary>
    /// Number of <see cref="Current"/>; a flush that takes it starts the next. A stable write remembers the generation
    /// its bytes went into and needs no flush of its own once <see cref="DurableGeneration"/> reached it.
    /// </summary>
    public long Generation;
    /// <summary>
    /// Highest generation flushed with a durable commit (-1: none yet). The commit also hardens every earlier one, and
    /// flushes run one at a time, so every generation up to it is durable, including the bytes of a failed earlier
    /// flush, which went back into the next generation.
    /// </summary>
    public long DurableGeneration = -1;

    /// <summary>
    /// Stable writes waiting for the file's next durable flush (null: none). The group flusher takes it just before
    /// it flushes, so every write that was buffered before it registered is in that flush.
    /// </summary>
    public TaskCompletionSource<FsStatus>? DurableWaiters;
    /// <summary>A group flusher (FsVolume.RunDurableFlushesAsync) is running for this file; guarded by <see cref="Lock"/>.</summary>
    public bool DurableFlusherRunning;

    public void MarkDirty()
    {
        if (DirtySince == 0) DirtySince = Math.Max(1, Environment.TickCount64);
    }
}
