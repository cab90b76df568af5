namespace NfsGate.Data.Cache;

/// <summary>
/// Files of dropped cache entries, kept (renamed into the temp directory) to be overwritten by the next fills instead
/// of deleted and created anew. Why: a fill into a new file allocates an inode and page-cache pages from scratch,
/// while a kept file's inode, blocks and (usually) pages are still there. Profiled on the bench machine, creating cache
/// files and copying into new page-cache pages took 49% of nfsgate's CPU in a cold S3 read right after an eviction
/// (ext4 without a journal scans recently freed inodes on every create; a VM balloon makes first-touched pages slow);
/// on any machine it saves an unlink, a create and a block allocation per fill.
/// <para>
/// Kept files count against the cache's cap like indexed ones (the owner trims the pool to what the index leaves
/// free), and the temp directory is emptied at start-up, so a crash leaves nothing behind. A file becomes reusable
/// only after <see cref="QuarantineMs"/>, so a read that was already running on it when its entry was dropped is long
/// done; a read even slower than that sees other bytes, fails its segment CRCs, and is retried without counting a
/// checksum failure (the entry is known to be dropped).
/// </para>
/// </summary>
internal sealed class RecycledFiles(string directory, int maxFiles, Func<long> clockMs)
{
    public const int QuarantineMs = 200;

    private readonly Lock _lock = new();
    private readonly Queue<(string Path, long Length, long RetiredAt)> _files = new();
    private long _bytes;

    public RecycledFiles(string directory, int maxFiles) : this(directory, maxFiles, () => Environment.TickCount64) { }

    /// <summary>Bytes of the files kept now.</summary>
    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    public int Count
    {
        get { lock (_lock) return _files.Count; }
    }

    /// <summary>
    /// Keeps the file at <paramref name="path"/> (<paramref name="length"/> bytes) if it fits in
    /// <paramref name="room"/> bytes beside the files kept already; else deletes it. The caller has closed its own
    /// handles to it.
    /// </summary>
    public void Retire(string path, long length, long room)
    {
        lock (_lock)
        {
            if (_files.Count < maxFiles && _bytes + length <= room)
            {
                string kept = Path.Combine(directory, "r" + Guid.NewGuid().ToString("N"));
                try
                {
                    File.Move(path, kept); // same file system: a rename, the inode and its pages stay
                }
                catch (Exception x) when (x is IOException or UnauthorizedAccessException)
                {
                    return; // gone already (a racing drop), or not movable: nothing to keep
                }
                _files.Enqueue((kept, length, clockMs()));
                _bytes += length;
                return;
            }
        }
        CachingObjectStore.TryDelete(path);
    }

    /// <summary>The oldest kept file past its quarantine, now the caller's (to overwrite, or delete); null if none.</summary>
    public string? TryTake()
    {
        lock (_lock)
        {
            if (_files.Count == 0 || clockMs() - _files.Peek().RetiredAt < QuarantineMs) return null;
            var (path, length, _) = _files.Dequeue();
            _bytes -= length;
            return path;
        }
    }

    /// <summary>Deletes kept files, oldest first, until they take at most <paramref name="maxBytes"/>.</summary>
    public void TrimTo(long maxBytes)
    {
        List<string>? doomed = null;
        lock (_lock)
        {
            while (_files.Count > 0 && _bytes > Math.Max(0, maxBytes))
            {
                var (path, length, _) = _files.Dequeue();
                _bytes -= length;
                (doomed ??= []).Add(path);
            }
        }
        if (doomed is not null) foreach (var p in doomed) CachingObjectStore.TryDelete(p);
    }
}
