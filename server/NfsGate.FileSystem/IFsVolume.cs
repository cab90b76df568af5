using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// What the protocol layer calls for one export: the POSIX namespace (metadata, atomic per call) plus
/// file data (buffered writes, COMMIT, reads assembled from slices). Knows nothing of NFS or of the
/// engines behind it.
/// </summary>
public interface IFsVolume : INamespace
{
    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/> (unflushed writes included).
    /// Count = bytes read, Eof = the read reached the end of file. Obj = post-op attributes.
    /// </summary>
    ValueTask<ReadResult> ReadAsync(Credential cred, ulong ino, ulong offset, Memory<byte> destination, CancellationToken ct = default);

    /// <summary>WRITE. Unstable writes are buffered; DataSync/FileSync are durable when this returns.</summary>
    ValueTask<WriteResult> WriteAsync(Credential cred, ulong ino, ulong offset, ReadOnlyMemory<byte> data, StableHow stable, CancellationToken ct = default);

    /// <summary>COMMIT: everything written to the file so far is durable when this returns.</summary>
    ValueTask<OpResult> CommitAsync(Credential cred, ulong ino, CancellationToken ct = default);
}

public enum StableHow : byte { Unstable = 0, DataSync = 1, FileSync = 2 }

public readonly record struct ReadResult(FsStatus Status, int Count, bool Eof, Attr? Attr);

public sealed class WriteResult
{
    public FsStatus Status;
    public uint Count;
    public StableHow Committed;
    public WccAttr? Before;
    public Attr? After;
}

/// <summary>
/// The deployment's data path shared by all volumes: owns write buffers, the write verifier and background
/// deletion. One per server process.
/// </summary>
public interface IFileSystem : IAsyncDisposable
{
    /// <summary>8 bytes that change with every server incarnation (and whenever unstable data may have been lost).</summary>
    ulong WriteVerifier { get; }

    IFsVolume Volume(uint volumeId);

    /// <summary>Flushes every buffered write (graceful shutdown).</summary>
    ValueTask FlushAllAsync(CancellationToken ct = default);

    /// <summary>
    /// The S3 storage class of the volume's objects from now on (exports[].storageClass; null = the store's default).
    /// A file system without classes ignores it.
    /// </summary>
    void SetStorageClass(uint volumeId, string? storageClass) { }

    /// <summary>
    /// True when namespace changes (create, remove, rename, link, mkdir, ...) commit without waiting: no fsync, no
    /// network round trip (the metadata engine's <c>LocalCommits</c>). They may then run on a connection's receive thread.
    /// </summary>
    bool QuickNamespaceChanges => false;
}
