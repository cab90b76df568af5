using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using NfsGate.Data;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>In-memory object store: the fast backend of the file-system tests (faults come from FaultyObjectStore).</summary>
public sealed class MemoryObjectStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, byte[]> _objects = new();

    public string Describe() => "memory";

    public ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        if (!_objects.TryGetValue(key, out var data)) throw new ObjectNotFoundException(key);
        if (offset >= data.Length) return ValueTask.FromResult(0);
        int n = (int)Math.Min(destination.Length, data.Length - offset);
        data.AsSpan((int)offset, n).CopyTo(destination.Span);
        return ValueTask.FromResult(n);
    }

    private readonly ConcurrentDictionary<string, ObjectPutOptions> _putOptions = new();

    /// <summary>Awaited at the start of every Put (tests hold an upload in flight with it).</summary>
    public Func<string, Task>? BeforePut { get; set; }

    /// <summary>The hints the last Put of <paramref name="key"/> came with (null if never put).</summary>
    public ObjectPutOptions? PutOptionsOf(string key) => _putOptions.TryGetValue(key, out var o) ? o : null;

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(key, data, ObjectPutOptions.Default, ct);

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
    {
        if (BeforePut is { } hook) await hook(key).ConfigureAwait(false);
        _putOptions[key] = options;
        _objects[key] = data.ToArray();
    }

    public ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        _objects.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) =>
        ValueTask.FromResult(_objects.TryGetValue(key, out var d) ? (long?)d.Length : null);

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.CompletedTask;
        foreach (var key in _objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            if (_objects.TryGetValue(key, out var d)) yield return (key, d.Length);
    }
}
