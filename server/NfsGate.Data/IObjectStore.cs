namespace NfsGate.Data;

/// <summary>
/// Object storage as the data path sees it (JuiceFS pkg/object): immutable objects by key.
/// Decorators (prefix, metrics, fault injection, retries) implement the same interface.
/// Failures are exceptions (<see cref="ObjectStoreException"/>): an outage is not an expected outcome, and the
/// caller above turns it into NFS3ERR_IO / JUKEBOX after retries.
/// </summary>
public interface IObjectStore
{
    string Describe();

    /// <summary>Reads <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>; returns the number read (less only at the object's end). Throws <see cref="ObjectNotFoundException"/> if absent.</summary>
    ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default);

    /// <summary>Writes the whole object durably (on return it survives a crash). Overwriting is allowed but the data path never does it.</summary>
    ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>
    /// Put with per-object hints (<see cref="ObjectPutOptions"/>, e.g. a storage class). This default drops them,
    /// which is right only for a store with nothing to apply them to: a decorator MUST override it and pass the
    /// options on (ObjectPutHintTests fails for one that does not).
    /// </summary>
    ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default) => PutAsync(key, data, ct);

    /// <summary>Idempotent: deleting an absent key succeeds.</summary>
    ValueTask DeleteAsync(string key, CancellationToken ct = default);

    /// <summary>Size of the object, or null if absent.</summary>
    ValueTask<long?> HeadAsync(string key, CancellationToken ct = default);

    /// <summary>All keys under <paramref name="prefix"/>, in key order, with sizes.</summary>
    IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default);
}

public class ObjectStoreException(string message, Exception? inner = null) : Exception(message, inner);
public sealed class ObjectNotFoundException(string key) : ObjectStoreException($"object not found: {key}");
