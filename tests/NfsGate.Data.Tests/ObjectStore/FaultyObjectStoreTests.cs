using NfsGate.Data;

namespace NfsGate.Data.Tests.ObjectStore;

/// <summary>The decorator with no fault armed is a correct store: it passes the whole contract.</summary>
public sealed class FaultyObjectStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempDir _dir = new();
    private int _n;
    protected override IObjectStore Create() => new FaultyObjectStore(new LocalDirObjectStore(Path.Combine(_dir.Path, $"s{_n++}")));
    public void Dispose() => _dir.Dispose();
}

public sealed class FaultyObjectStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FaultyObjectStore _s;

    public FaultyObjectStoreTests() => _s = new FaultyObjectStore(new LocalDirObjectStore(_dir.Path));
    public void Dispose() => _dir.Dispose();

    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task FailNext_fails_exactly_the_next_n_matching_calls_before_the_inner_store_runs()
    {
        _s.FailNext(ObjectOps.Put, count: 2);
        await _s.HeadAsync("k"); // not a Put: unaffected
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await _s.PutAsync("k", B("1")));
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await _s.PutAsync("k", B("2")));
        Assert.Null(await _s.Inner.HeadAsync("k"));
        await _s.PutAsync("k", B("3"));
        Assert.Equal(1, await _s.Inner.HeadAsync("k"));
        Assert.Equal(2, _s.Injected);
        Assert.Equal(3, _s.Calls(ObjectOps.Put));
        Assert.Equal(1, _s.Calls(ObjectOps.Head));
    }

    [Fact]
    public async Task After_inner_faults_report_failure_although_the_work_was_done()
    {
        _s.FailNext(ObjectOps.Put | ObjectOps.Delete, count: 2, afterInner: true);
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await _s.PutAsync("k", B("written")));
        Assert.Equal(7, await _s.HeadAsync("k"));
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await _s.DeleteAsync("k"));
        Assert.Null(await _s.HeadAsync("k"));
    }

    [Fact]
    public async Task FailAlways_lasts_until_Heal_and_uses_the_given_exception()
    {
        await _s.PutAsync("k", B("x"));
        _s.FailAlways(ObjectOps.Get | ObjectOps.List, error: new TimeoutException("slow s3"));
        for (int i = 0; i < 3; i++)
            await Assert.ThrowsAsync<TimeoutException>(async () => await _s.GetAsync("k", 0, new byte[1]));
        await Assert.ThrowsAsync<TimeoutException>(async () => { await foreach (var _ in _s.ListAsync("")) { } });
        Assert.Equal(1, await _s.HeadAsync("k"));
        _s.Heal();
        Assert.Equal(1, await _s.GetAsync("k", 0, new byte[1]));
        Assert.Equal(4, _s.Injected);
    }

    [Fact]
    public async Task FailIf_targets_single_keys()
    {
        _s.FailIf = (op, key) => op == ObjectOps.Put && key.EndsWith("_bad", StringComparison.Ordinal);
        await _s.PutAsync("a_good", B("x"));
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await _s.PutAsync("a_bad", B("x")));
        Assert.Equal(["a_good"], await ListKeys());
        _s.Heal();
        await _s.PutAsync("a_bad", B("x"));
        Assert.Equal(["a_bad", "a_good"], await ListKeys());
    }

    [Fact]
    public void Calls_needs_a_single_operation()
    {
        Assert.Throws<ArgumentException>(() => _s.Calls(ObjectOps.Get | ObjectOps.Put));
        Assert.StartsWith("faulty(file://", _s.Describe());
    }

    private async Task<List<string>> ListKeys()
    {
        var keys = new List<string>();
        await foreach (var (k, _) in _s.ListAsync("")) keys.Add(k);
        return keys;
    }
}
