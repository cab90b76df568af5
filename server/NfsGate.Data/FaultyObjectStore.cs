using System.Runtime.CompilerServices;

namespace NfsGate.Data;

/// <summary>The operations of <see cref="IObjectStore"/>, as flags for <see cref="FaultyObjectStore"/>.</summary>
[Flags]
public enum ObjectOps
{
    None = 0,
    Get = 1,
    Put = 2,
    Delete = 4,
    Head = 8,
    List = 16,
    All = Get | Put | Delete | Head | List,
}

/// <summary>
/// Fault injection for tests (JuiceFS pkg/object wrappers): wraps a store and makes chosen operations throw.
/// Faults are armed with <see cref="FailNext"/> (the next N matching calls), <see cref="FailAlways"/> (until
/// <see cref="Heal"/>) or the <see cref="FailIf"/> predicate (per call, e.g. one key). With <c>afterInner</c> a
/// Put/Delete fault fires after the inner store did the work: the caller sees an error although the object
/// was written, like an S3 request whose reply was lost. Thread-safe.
/// </summary>
public sealed class FaultyObjectStore(IObjectStore inner) : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly long[] _calls = new long[5];
    private ObjectOps _ops;
    private int _remaining;
    private bool _afterInner;
    private Exception? _error;
    private long _injected;

    public IObjectStore Inner { get; } = inner;

    /// <summary>Consulted on every call that no armed fault caught: return true to fail that call (before the inner store runs).</summary>
    public Func<ObjectOps, string, bool>? FailIf { get; set; }

    /// <summary>Number of faults injected so far.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    /// <summary>Calls made of <paramref name="op"/> (a single flag), failed ones included.</summary>
    public long Calls(ObjectOps op) => Interlocked.Read(ref _calls[Index(op)]);

    /// <summary>Fail the next <paramref name="count"/> calls of any operation in <paramref name="ops"/>. Replaces any armed fault.</summary>
    public void FailNext(ObjectOps ops, int count = 1, bool afterInner = false, Exception? error = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_lock)
        {
            _ops = ops;
            _remaining = count;
            _afterInner = afterInner;
            _error = error;
        }
    }

    /// <summary>Fail every call of <paramref name="ops"/> until <see cref="Heal"/>.</summary>
    public void FailAlways(ObjectOps ops, bool afterInner = false, Exception? error = null) => FailNext(ops, int.MaxValue, afterInner, error);

    /// <summary>Disarm all faults (also clears <see cref="FailIf"/>).</summary>
    public void Heal()
    {
        lock (_lock)
        {
            _ops = ObjectOps.None;
            _remaining = 0;
            FailIf = null;
        }
    }

    public string Describe() => $"faulty({Inner.Describe()})";

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        var after = Before(ObjectOps.Get, key);
        int n = await Inner.GetAsync(key, offset, destination, ct).ConfigureAwait(false);
        if (after is not null) throw after;
        return n;
    }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(key, data, ObjectPutOptions.Default, ct);

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
    {
        var after = Before(ObjectOps.Put, key);
        await Inner.PutAsync(key, data, options, ct).ConfigureAwait(false);
        if (after is not null) throw after;
    }

    public async ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        var after = Before(ObjectOps.Delete, key);
        await Inner.DeleteAsync(key, ct).ConfigureAwait(false);
        if (after is not null) throw after;
    }

    public async ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        var after = Before(ObjectOps.Head, key);
        var size = await Inner.HeadAsync(key, ct).ConfigureAwait(false);
        if (after is not null) throw after;
        return size;
    }

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // A List fault fires when enumeration starts (before the first item), "after" ones at its end.
        var after = Before(ObjectOps.List, prefix);
        await foreach (var item in Inner.ListAsync(prefix, ct).ConfigureAwait(false)) yield return item;
        if (after is not null) throw after;
    }

    /// <summary>Counts the call and throws now if a before-fault applies; returns the exception to throw after the inner call, if any.</summary>
    private Exception? Before(ObjectOps op, string key)
    {
        Interlocked.Increment(ref _calls[Index(op)]);
        bool fire, after = false;
        Exception? error = null;
        lock (_lock)
        {
            fire = (_ops & op) != 0 && _remaining > 0;
            if (fire)
            {
                if (_remaining != int.MaxValue) _remaining--;
                after = _afterInner;
                error = _error;
            }
        }
        if (!fire && FailIf is { } rule && rule(op, key)) fire = true;
        if (!fire) return null;
        Interlocked.Increment(ref _injected);
        error ??= new ObjectStoreException($"injected fault: {op} {key}");
        if (after) return error;
        throw error;
    }

    private static int Index(ObjectOps op) => op switch
    {
        ObjectOps.Get => 0,
        ObjectOps.Put => 1,
        ObjectOps.Delete => 2,
        ObjectOps.Head => 3,
        ObjectOps.List => 4,
        _ => throw new ArgumentException($"one operation expected, got {op}", nameof(op)),
    };
}
