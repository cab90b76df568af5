namespace NfsGate.FileSystem.Writeback;

/// <summary>
/// The staged records of one file, oldest first. They reach the metadata strictly in this order, and while any is
/// pending every flush of the file is staged behind them, so a newer write can never be overtaken by an older one.
/// Everything here is guarded by <see cref="Lock"/>.
/// </summary>
internal sealed class InodeStage(uint volume, ulong ino)
{
    public readonly uint Volume = volume;
    public readonly ulong Ino = ino;
    public readonly Lock Lock = new();
    public readonly List<StagedRecord> Records = [];
    /// <summary>An uploader owns this file (queued, uploading or waiting to retry): no second one may start.</summary>
    public bool Active;
    /// <summary>Taken out of the registry when it emptied: users must fetch a fresh one.</summary>
    public bool Removed;
    /// <summary>The file was deleted: records are thrown away instead of uploaded.</summary>
    public bool Dropped;
    /// <summary>Consecutive failed uploads (sets the retry pause).</summary>
    public int Failures;
    /// <summary>Completed when the last record is gone (truncate waits for it).</summary>
    public TaskCompletionSource Emptied = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
