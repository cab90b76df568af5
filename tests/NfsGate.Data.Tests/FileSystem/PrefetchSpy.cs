using System.Collections.Concurrent;
using NfsGate.Data;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// Read-ahead test double in front of a prefetching store (the real cache): records every prefetch per key, at the
/// moment it is asked for, and can hold prefetches at a gate (to keep them in flight).
/// </summary>
internal sealed class PrefetchSpy<TStore>(TStore inner) : IObjectStore, IPrefetchingStore
    where TStore : IObjectStore, IPrefetchingStore
{
    private readonly ConcurrentDictionary<string, int> _prefetches = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>When set, prefetches wait for it before reaching the inner store.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public int TotalPrefetches => Volatile.Read(ref _total);

    public int Prefetches(string key) => _prefetches.TryGetValue(key, out int n) ? n : 0;

    public async Task PrefetchAsync(string key, CancellationToken ct = default)
    {
        _prefetches.AddOrUpdate(key, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _total);
        if (Gate is { } gate) await gate.Task.WaitAsync(ct);
        await inner.PrefetchAsync(key, ct);
    }

    public string Describe() => $"spy({inner.Describe()})";
    public ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default) => inner.GetAsync(key, offset, destination, ct);
    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);
    public ValueTask DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) => inner.HeadAsync(key, ct);
    public IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default) => inner.ListAsync(prefix, ct);
}

/// <summary>Counts the Gets of every key that reach the store it wraps (the slow store behind the cache).</summary>
internal sealed class KeyCountingStore(IObjectStore inner) : IObjectStore
{
    private readonly ConcurrentDictionary<string, int> _gets = new(StringComparer.Ordinal);
    private int _total;

    public IObjectStore Inner => inner;
    public int TotalGets => Volatile.Read(ref _total);
    public int Gets(string key) => _gets.TryGetValue(key, out int n) ? n : 0;

    public void Reset()
    {
        _gets.Clear();
        Volatile.Write(ref _total, 0);
    }

    /// <summary>When set, Gets wait for it after being counted (to see how many are in flight at once).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        _gets.AddOrUpdate(key, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _total);
        if (Gate is { } gate) await gate.Task.WaitAsync(ct);
        return await inner.GetAsync(key, offset, destination, ct);
    }

    public string Describe() => $"counting({inner.Describe()})";
    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);
    public ValueTask DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) => inner.HeadAsync(key, ct);
    public IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default) => inner.ListAsync(prefix, ct);
}
