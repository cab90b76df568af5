using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// The namespace half of a volume: straight delegation to the metadata, plus the two places where data and
/// namespace meet — a size change is ordered after the file's buffered writes, and a freed inode's buffer is dropped.
/// </summary>
internal sealed partial class FsVolume
{
    public uint VolumeId => _meta.VolumeId;

    public FsStatus GetAttr(ulong ino, out Attr attr) => _meta.GetAttr(ino, out attr);

    public OpResult SetAttr(Credential cred, ulong ino, in SetAttrRequest req, Timespec? guardCtime)
    {
        if (req.Size is not ulong size) return _meta.SetAttr(cred, ino, req, guardCtime);
        while (true)
        {
            var buf = _buffers.GetOrAdd(ino, static i => new InodeBuffer(i));
            // Waits for a flush in progress, so its slices land before the truncate's hole slices.
            buf.FlushLock.Wait();
            try
            {
                // Staged (writeback) data of the file must land before the truncate's hole slices, not after.
                // Holding the flush lock, no new record can be staged meanwhile; writers are not held up.
                if (_fs.Staging is { } staging && !staging.WaitDrained(VolumeId, ino, _fs.Options.MaxWriteWait))
                    return WithAttr(OpResult.Fail(FsStatus.Jukebox), ino);
                buf.Gate.EnterWriteLock();
                try
                {
                    if (buf.Retired) continue;
                    var res = _meta.SetAttr(cred, ino, req, guardCtime);
                    if (res.Status == FsStatus.Ok && size < Layout.MaxFileSize)
                    {
                        long dropped;
                        lock (buf.Lock) dropped = buf.Current.Trim((long)size);
                        _fs.Budget.Release(dropped);
                    }
                    return res;
                }
                finally
                {
                    buf.Gate.ExitWriteLock();
                }
            }
            finally
            {
                buf.FlushLock.Release();
            }
        }
    }

    public OpResult Lookup(Credential cred, ulong dir, string name) => _meta.Lookup(cred, dir, name);
    public LookupResult LookupUtf8(Credential cred, ulong dir, ReadOnlySpan<byte> name) => _meta.LookupUtf8(cred, dir, name);

    public FsStatus Access(Credential cred, ulong ino, AccessMask requested, out AccessMask granted, out Attr attr) =>
        _meta.Access(cred, ino, requested, out granted, out attr);

    public FsStatus ReadLink(Credential cred, ulong ino, out string target, out Attr attr) =>
        _meta.ReadLink(cred, ino, out target, out attr);

    public OpResult Create(Credential cred, ulong dir, string name, CreateMode mode, in SetAttrRequest attrs, ulong verifier) =>
        _meta.Create(cred, dir, name, mode, attrs, verifier);

    public OpResult Mkdir(Credential cred, ulong dir, string name, in SetAttrRequest attrs) => _meta.Mkdir(cred, dir, name, attrs);

    public OpResult Symlink(Credential cred, ulong dir, string name, string target, in SetAttrRequest attrs) =>
        _meta.Symlink(cred, dir, name, target, attrs);

    public OpResult Mknod(Credential cred, ulong dir, string name, FileType type, in SetAttrRequest attrs, uint major, uint minor) =>
        _meta.Mknod(cred, dir, name, type, attrs, major, minor);

    public OpResult Remove(Credential cred, ulong dir, string name) => AfterFree(_meta.Remove(cred, dir, name));

    public OpResult Rmdir(Credential cred, ulong dir, string name) => AfterFree(_meta.Rmdir(cred, dir, name));

    public OpResult Rename(Credential cred, ulong fromDir, string fromName, ulong toDir, string toName) =>
        AfterFree(_meta.Rename(cred, fromDir, fromName, toDir, toName));

    public OpResult Link(Credential cred, ulong ino, ulong dir, string name) => _meta.Link(cred, ino, dir, name);

    public ReadDirResult ReadDir(Credential cred, ulong dir, ulong cookie, ulong cookieVerifier, int maxEntries, bool withAttrs) =>
        _meta.ReadDir(cred, dir, cookie, cookieVerifier, maxEntries, withAttrs);

    public VolumeUsage Usage() => _meta.Usage();

    private OpResult WithAttr(OpResult res, ulong ino)
    {
        if (_meta.GetAttr(ino, out var a) == FsStatus.Ok)
        {
            res.ObjBefore = a.Wcc;
            res.Obj = a;
        }
        return res;
    }

    /// <summary>A freed inode's unflushed data can never be read again: drop it, and let the deleter run soon.</summary>
    private OpResult AfterFree(OpResult res)
    {
        if (res.FreedInode == 0) return res;
        _fs.Staging?.Drop(VolumeId, res.FreedInode);
        if (_buffers.TryRemove(res.FreedInode, out var buf))
        {
            long dropped;
            lock (buf.Lock)
            {
                buf.Retired = true;
                buf.Dropped = true;
                dropped = buf.Current.Bytes;
                buf.Current.Release();
            }
            _fs.Budget.Release(dropped);
        }
        // An empty file queued nothing: waking the deleter for it cost a thread wake and a queue scan per REMOVE.
        if (res.QueuedDeletes) _fs.Deleter.Wake();
        return res;
    }
}
