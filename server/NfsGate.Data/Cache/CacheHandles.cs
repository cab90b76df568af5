using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data.Cache;

/// <summary>
/// Read handles of cache files kept open between hits, at most a fixed number, least recently used closed first.
/// A handle is lent with a reference taken on it (<see cref="SafeHandle.DangerousAddRef"/>), so closing it while a
/// read is running only marks it: the descriptor is closed when that read gives it back, never under the read.
/// An entry dropped from the cache is <see cref="Close"/>d before its file is deleted; a handle opened by a racing
/// reader after that is used once and not kept, so no descriptor pins a deleted file's space for long.
/// </summary>
internal sealed class CacheHandles(int capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<CacheEntry> _lru = new(); // most recently used first

    public int Count
    {
        get { lock (_lock) return _lru.Count; }
    }

    /// <summary>A handle to <paramref name="e"/>'s file; throws what <see cref="File.OpenHandle"/> throws (e.g. the file was evicted).</summary>
    public Lease Rent(CacheEntry e)
    {
        lock (_lock)
        {
            if (e.Handle is { } open)
            {
                _lru.Remove(e.HandleNode!);
                _lru.AddFirst(e.HandleNode!);
                return Lease.Shared(open);
            }
        }
        var handle = File.OpenHandle(e.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        SafeFileHandle? victim = null;
        lock (_lock)
        {
            if (e.Handle is { } raced)
            {
                // Another reader opened it meanwhile: use theirs, close ours.
                _lru.Remove(e.HandleNode!);
                _lru.AddFirst(e.HandleNode!);
                var lease = Lease.Shared(raced);
                handle.Dispose();
                return lease;
            }
            if (e.HandlesClosed || capacity == 0) return Lease.Owned(handle);
            e.Handle = handle;
            e.HandleNode = _lru.AddFirst(e);
            if (_lru.Count > capacity) victim = Detach(_lru.Last!.Value);
            var shared = Lease.Shared(handle);
            victim?.Dispose();
            return shared;
        }
    }

    /// <summary>Closes <paramref name="e"/>'s handle (deferred while lent) and keeps it from being cached again.</summary>
    public void Close(CacheEntry e)
    {
        SafeFileHandle? h;
        lock (_lock)
        {
            e.HandlesClosed = true;
            h = Detach(e);
        }
        h?.Dispose();
    }

    private SafeFileHandle? Detach(CacheEntry e)
    {
        var h = e.Handle;
        if (h is null) return null;
        _lru.Remove(e.HandleNode!);
        e.Handle = null;
        e.HandleNode = null;
        return h;
    }

    /// <summary>A lent handle: either shared (a reference taken on the cached one) or owned (closed when given back).</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly bool _owned;

        private Lease(SafeFileHandle handle, bool owned)
        {
            Handle = handle;
            _owned = owned;
        }

        public SafeFileHandle Handle { get; }

        /// <summary>Under the lock, so the handle cannot have been closed yet (Close disposes outside it, after detaching).</summary>
        public static Lease Shared(SafeFileHandle handle)
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            return new Lease(handle, owned: false);
        }

        public static Lease Owned(SafeFileHandle handle) => new(handle, owned: true);

        public void Dispose()
        {
            if (_owned) Handle.Dispose();
            else Handle.DangerousRelease();
        }
    }
}
