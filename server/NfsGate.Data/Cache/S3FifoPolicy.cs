namespace NfsGate.Data.Cache;

/// <summary>One cached object: its file, its checksums and its place in the eviction queues.</summary>
internal sealed class CacheEntry(string key, string path, long length, int segmentSize, int headerLength, uint[] crcs)
{
    public string Key { get; } = key;
    public string Path { get; } = path;
    public long Length { get; } = length;
    public int SegmentSize { get; } = segmentSize;
    public int HeaderLength { get; } = headerLength;
    public uint[] Crcs { get; } = crcs;

    /// <summary>Bytes charged against the cap: the whole file.</summary>
    public long Size => HeaderLength + Length;

    // Owned by S3FifoPolicy, under the cache's lock.
    public int Freq;
    public long NextOffset;
    public bool InMain;
    public LinkedListNode<CacheEntry>? Node;

    // Owned by CacheHandles, under its lock.
    public Microsoft.Win32.SafeHandles.SafeFileHandle? Handle;
    public LinkedListNode<CacheEntry>? HandleNode;
    public bool HandlesClosed;
}

/// <summary>
/// S3-FIFO eviction (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023), weighted by bytes.
/// <para>
/// New objects enter a small FIFO queue S (10% of the cap). When S is over its share, its oldest object leaves:
/// to the main FIFO queue M if it was accessed again while in S, otherwise out of the cache, leaving its key in a
/// ghost FIFO G (keys only, as many bytes' worth as the cap). M evicts with second chances (CLOCK): an object with
/// accesses left is reinserted at the head with one access fewer. A miss on a key still in G goes straight to M.
/// </para>
/// <para>
/// Why not LRU: a one-off scan (a backup, a `cat` of a large file) would push every hot block out. Here scanned
/// objects are accessed once, pass through S and leave it, and never touch M, which holds the hot set.
/// </para>
/// <para>
/// What counts as an access: the NFS client reads a 4 MiB block in several sequential READs (rsize is usually
/// 1 MiB), so a hit that continues exactly where the previous read of the same object ended belongs to the same
/// pass and does not raise the frequency; otherwise a single sequential scan would look like 4 accesses.
/// Frequencies saturate at 3, as in the paper.
/// </para>
/// Not thread-safe: the caller holds its lock. Evicted entries are appended to a list so that the caller deletes
/// their files after releasing the lock.
/// </summary>
internal sealed class S3FifoPolicy(long capacity, double smallRatio)
{
    private const int MaxFreq = 3;
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CacheEntry> _small = new(), _main = new();
    private readonly LinkedList<(string Key, long Size)> _ghost = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, long Size)>> _ghostIndex = new(StringComparer.Ordinal);
    private readonly long _smallTarget = Math.Max(1, (long)(capacity * smallRatio));
    private long _smallBytes, _mainBytes, _ghostBytes;

    public long Capacity { get; } = capacity;
    public long Used => _smallBytes + _mainBytes;
    public int Count => _entries.Count;

    public CacheEntry? Get(string key) => _entries.GetValueOrDefault(key);

    public bool InGhost(string key) => _ghostIndex.ContainsKey(key);

    public bool InMain(string key) => _entries.TryGetValue(key, out var e) && e.InMain;

    /// <summary>Records a read of [offset, offset+length) of a cached object.</summary>
    public void Access(CacheEntry e, long offset, long length)
    {
        if (offset != e.NextOffset && e.Freq < MaxFreq) e.Freq++;
        e.NextOffset = offset + length;
    }

    /// <summary>Adds a new entry (the key must not be cached), evicting until it fits. False if it can never fit.</summary>
    public bool Insert(CacheEntry e, long firstReadEnd, List<CacheEntry> victims)
    {
        if (e.Size > Capacity) return false;
        while (Used + e.Size > Capacity && Used > 0) EvictOne(victims);
        e.Freq = 0;
        e.NextOffset = firstReadEnd;
        if (_ghostIndex.Remove(e.Key, out var ghost))
        {
            // Evicted from S recently and wanted again: it has shown reuse, so it skips probation.
            _ghostBytes -= ghost.Value.Size;
            _ghost.Remove(ghost);
            AddMain(e);
        }
        else
        {
            e.InMain = false;
            e.Node = _small.AddFirst(e);
            _smallBytes += e.Size;
        }
        _entries.Add(e.Key, e);
        return true;
    }

    /// <summary>
    /// Adds an entry found on disk at startup. Objects that survived a restart were worth keeping, and their
    /// frequencies are lost: they go to M, oldest first so the oldest is evicted first.
    /// </summary>
    public void InsertWarm(CacheEntry e)
    {
        e.Freq = 0;
        e.NextOffset = e.Length;
        AddMain(e);
        _entries.Add(e.Key, e);
    }

    /// <summary>Drops an entry (delete, overwrite, corrupt file). Not an eviction: no ghost.</summary>
    public bool Remove(CacheEntry e)
    {
        if (!_entries.TryGetValue(e.Key, out var current) || current != e) return false;
        Unlink(e);
        _entries.Remove(e.Key);
        return true;
    }

    /// <summary>Evicts until <see cref="Used"/> is at most <paramref name="target"/>.</summary>
    public void ShrinkTo(long target, List<CacheEntry> victims)
    {
        while (Used > Math.Max(0, target)) EvictOne(victims);
    }

    private void EvictOne(List<CacheEntry> victims)
    {
        if (_small.Count > 0 && (_smallBytes >= _smallTarget || _main.Count == 0)) EvictSmall(victims);
        else EvictMain(victims);
    }

    private void EvictSmall(List<CacheEntry> victims)
    {
        while (_small.Last is { } node)
        {
            var e = node.Value;
            Unlink(e);
            if (e.Freq > 0)
            {
                e.Freq = 0; // in M it earns its second chances afresh
                AddMain(e);
                continue;
            }
            _entries.Remove(e.Key);
            AddGhost(e.Key, e.Size);
            victims.Add(e);
            return;
        }
        EvictMain(victims); // everything in S was promoted
    }

    private void EvictMain(List<CacheEntry> victims)
    {
        while (_main.Last is { } node)
        {
            var e = node.Value;
            if (e.Freq > 0)
            {
                e.Freq--;
                _main.Remove(node);
                _main.AddFirst(node);
                continue;
            }
            Unlink(e);
            _entries.Remove(e.Key);
            victims.Add(e);
            return;
        }
    }

    private void AddMain(CacheEntry e)
    {
        e.InMain = true;
        e.Node = _main.AddFirst(e);
        _mainBytes += e.Size;
    }

    private void Unlink(CacheEntry e)
    {
        if (e.Node is null) return;
        if (e.InMain)
        {
            _main.Remove(e.Node);
            _mainBytes -= e.Size;
        }
        else
        {
            _small.Remove(e.Node);
            _smallBytes -= e.Size;
        }
        e.Node = null;
    }

    /// <summary>The ghost remembers about a cap's worth of recently evicted keys (the paper sizes it like M).</summary>
    private void AddGhost(string key, long size)
    {
        if (_ghostIndex.ContainsKey(key)) return;
        _ghostIndex[key] = _ghost.AddFirst((key, size));
        _ghostBytes += size;
        while (_ghostBytes > Capacity && _ghost.Last is { } oldest)
        {
            _ghost.RemoveLast();
            _ghostIndex.Remove(oldest.Value.Key);
            _ghostBytes -= oldest.Value.Size;
        }
    }
}
