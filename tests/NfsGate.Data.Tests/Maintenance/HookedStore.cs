using System.Runtime.CompilerServices;

namespace NfsGate.Data.Tests.Maintenance;

/// <summary>Passes through to a store, running a hook at the moments a race would strike: after a listing, or on a HEAD.</summary>
internal sealed class HookedStore(IObjectStore inner) : IObjectStore
{
    public Action? AfterList;
    public Func<string, bool>? MissOnHead;

    public string Describe() => "hooked " + inner.Describe();
    public ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default) => inner.GetAsync(key, offset, destination, ct);
    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);
    public ValueTask DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);

    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) =>
        MissOnHead?.Invoke(key) == true ? ValueTask.FromResult<long?>(null) : inner.HeadAsync(key, ct);

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var item in inner.ListAsync(prefix, ct)) yield return item;
        AfterList?.Invoke();
    }
}
