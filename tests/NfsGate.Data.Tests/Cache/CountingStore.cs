using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using NfsGate.Data;

namespace NfsGate.Data.Tests.Cache;

/// <summary>
/// The inner store of the cache tests: objects in memory, every call counted, Gets optionally held at a gate
/// (to pile up concurrent misses) or failing (to check nothing bad is cached).
/// </summary>
public sealed class CountingStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);
    private int _gets, _puts, _deletes, _heads;

    public int Gets => Volatile.Read(ref _gets);
    public int Puts => Volatile.Read(ref _puts);
    public int Deletes => Volatile.Read(ref _deletes);
    public int Heads => Volatile.Read(ref _heads);

    /// <summary>When set, every Get waits for this task first.</summary>
    public Task? Gate { get; set; }

    /// <summary>When set, every Get throws it (after the gate).</summary>
    public Exception? GetFailure { get; set; }

    /// <summary>Completed when the first Get arrives.</summary>
    public TaskCompletionSource FirstGet { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Describe() => "counting-memory";

    /// <summary>Stores an object without going through the cache.</summary>
    public void Seed(string key, byte[] data) => _objects[key] = data;

    public bool Contains(string key) => _objects.ContainsKey(key);

    /// <summary>The managed id of the thread the latest Get started on.</summary>
    public int LastGetThread => Volatile.Read(ref _lastGetThread);
    private int _lastGetThread;

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        Volatile.Write(ref _lastGetThread, Environment.CurrentManagedThreadId);
        Interlocked.Increment(ref _gets);
        FirstGet.TrySetResult();
        if (Gate is { } gate) await gate.WaitAsync(ct);
        if (GetFailure is { } failure) throw failure;
        if (!_objects.TryGetValue(key, out var data)) throw new ObjectNotFoundException(key);
        if (offset >= data.Length) return 0;
        int n = (int)Math.Min(destination.Length, data.Length - offset);
        data.AsSpan((int)offset, n).CopyTo(destination.Span);
        return n;
    }

    /// <summary>When set, every Put waits for this task, then throws it if <see cref="PutFailure"/> is set.</summary>
    public Task? PutGate { get; set; }

    /// <summary>When set, every Put throws it (after <see cref="PutGate"/>) and stores nothing.</summary>
    public Exception? PutFailure { get; set; }

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _puts);
        if (PutGate is { } gate) await gate;
        if (PutFailure is { } failure) throw failure;
        _objects[key] = data.ToArray();
    }

    public ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _deletes);
        _objects.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _heads);
        return ValueTask.FromResult(_objects.TryGetValue(key, out var d) ? d.Length : (long?)null);
    }

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var kv in _objects.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            yield return (kv.Key, kv.Value.Length);
        await Task.CompletedTask;
    }
}
