namespace NfsGate.Data;

/// <summary>
/// Optional capability of an <see cref="IObjectStore"/> (the block cache has it): warm an object so that a later
/// Get of it does not wait for the slow store. Callers discover it with <c>store as IPrefetchingStore</c>; a store
/// without it simply gets no read-ahead.
/// </summary>
public interface IPrefetchingStore
{
    /// <summary>
    /// Fetches <paramref name="key"/> into the fast tier unless it is there, joining a fetch already in flight.
    /// Not a read (no hit or miss is counted). Completes when the object is ready or the fetch failed (then it
    /// throws); cancelling stops the wait, not a fetch others may share. Safe to fire and forget if the caller
    /// observes the task's exception.
    /// </summary>
    Task PrefetchAsync(string key, CancellationToken ct = default);
}
