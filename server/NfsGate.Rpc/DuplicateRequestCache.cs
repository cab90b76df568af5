using System.Net;

namespace NfsGate.Rpc;

/// <summary>
/// Duplicate-request cache for non-idempotent procedures (CREATE, REMOVE, RENAME, ...): a retransmission gets the
/// original reply instead of a second execution (a replayed REMOVE would otherwise answer NFS3ERR_NOENT).
/// The key uses the client's address without the port, because a client retransmits after reconnecting from a new
/// port; a hash of the argument bytes guards against a client reusing an xid for a different request.
/// Bounded by entry count and age; a duplicate arriving while the original still runs waits for its reply.
/// </summary>
public sealed class DuplicateRequestCache
{
    public readonly record struct Key(IPAddress Client, uint Xid, uint Program, uint Version, uint Procedure, int ArgsLength, int ArgsHash);

    public sealed class Entry
    {
        internal readonly TaskCompletionSource<byte[]?> Reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal long CreatedAt;
        /// <summary>The original reply bytes, or null when the original produced no reply (its caller should execute).</summary>
        public Task<byte[]?> Task => Reply.Task;
    }

    private readonly Dictionary<Key, Entry> _map = new();
    private readonly Queue<(Key Key, Entry Entry)> _order = new();
    private readonly object _lock = new();
    private readonly int _maxEntries;
    private readonly long _maxAgeMs;

    /// <summary>8192 entries × a few hundred bytes of metadata reply ≈ a few MiB; 120 s outlasts the Linux client's
    /// TCP retransmission (timeo=600 deciseconds is 60 s) with margin.</summary>
    public DuplicateRequestCache(int maxEntries = 8192, TimeSpan? maxAge = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntries);
        _maxEntries = maxEntries;
        _maxAgeMs = (long)(maxAge ?? TimeSpan.FromSeconds(120)).TotalMilliseconds;
    }

    public int Count { get { lock (_lock) return _map.Count; } }

    public static Key MakeKey(IPAddress client, uint xid, uint program, uint version, uint procedure, ReadOnlySpan<byte> args)
    {
        var h = new HashCode();
        h.AddBytes(args);
        return new Key(client, xid, program, version, procedure, args.Length, h.ToHashCode());
    }

    /// <summary>Returns the entry for <paramref name="key"/>; <paramref name="isNew"/> means the caller must execute and then
    /// <see cref="Complete"/> or <see cref="Abandon"/> it.</summary>
    public Entry Begin(in Key key, out bool isNew)
    {
        long now = Environment.TickCount64;
        lock (_lock)
        {
            Evict(now);
            if (_map.TryGetValue(key, out var existing))
            {
                isNew = false;
                return existing;
            }
            var e = new Entry { CreatedAt = now };
            _map[key] = e;
            _order.Enqueue((key, e));
            isNew = true;
            return e;
        }
    }

    public static void Complete(Entry entry, byte[] reply) => entry.Reply.TrySetResult(reply);

    /// <summary>The original produced no reply (connection closing): forget it and let waiters execute themselves.</summary>
    public void Abandon(in Key key, Entry entry)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var cur) && ReferenceEquals(cur, entry)) _map.Remove(key);
        }
        entry.Reply.TrySetResult(null);
    }

    private void Evict(long now)
    {
        while (_order.Count > 0)
        {
            var (k, e) = _order.Peek();
            bool stale = !_map.TryGetValue(k, out var cur) || !ReferenceEquals(cur, e);
            // Leaves room for the entry about to be added: the count never exceeds the bound.
            if (!stale && _map.Count < _maxEntries && now - e.CreatedAt < _maxAgeMs) break;
            _order.Dequeue();
            if (!stale) _map.Remove(k);
        }
    }
}
