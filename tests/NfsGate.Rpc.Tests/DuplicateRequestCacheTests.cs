using System.Net;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

public class DuplicateRequestCacheTests
{
    private readonly TestProgram _program = new();
    private readonly RecordingObserver _observer = new();

    private RpcDispatcher Dispatcher(DuplicateRequestCache drc)
    {
        var d = new RpcDispatcher(observer: _observer, drc: drc);
        d.Register(_program);
        return d;
    }

    private static async Task<byte[]> Dispatch(RpcDispatcher d, byte[] record, IPEndPoint? client = null)
    {
        using var reply = await d.DispatchAsync(record, client ?? new IPEndPoint(IPAddress.Loopback, 1000), 1, CancellationToken.None);
        return reply.Body.ToArray();
    }

    private static byte[] Call(uint proc, uint xid, byte[]? args = null)
        => RawRpcClient.BuildCall(xid, TestProgram.Number, 3, proc, args ?? []);

    [Fact]
    public async Task Replay_returns_identical_bytes_and_runs_once()
    {
        var d = Dispatcher(new DuplicateRequestCache());
        var first = await Dispatch(d, Call(TestProgram.Counter, 7));
        var again = await Dispatch(d, Call(TestProgram.Counter, 7));
        Assert.Equal(first, again);
        Assert.Equal(1, _program.CounterRuns);
        Assert.Equal([false, true], _observer.Completed.Select(c => c.FromCache));
    }

    [Fact]
    public async Task Replay_from_another_port_of_the_same_address_is_a_duplicate()
    {
        var d = Dispatcher(new DuplicateRequestCache());
        var first = await Dispatch(d, Call(TestProgram.Counter, 7), new IPEndPoint(IPAddress.Loopback, 1000));
        var again = await Dispatch(d, Call(TestProgram.Counter, 7), new IPEndPoint(IPAddress.Loopback, 2000));
        Assert.Equal(first, again);
        Assert.Equal(1, _program.CounterRuns);
    }

    [Fact]
    public async Task Different_client_xid_or_args_execute_again()
    {
        var d = Dispatcher(new DuplicateRequestCache());
        await Dispatch(d, Call(TestProgram.Counter, 7));
        await Dispatch(d, Call(TestProgram.Counter, 7), new IPEndPoint(IPAddress.Parse("127.0.0.2"), 1000));
        await Dispatch(d, Call(TestProgram.Counter, 8));
        await Dispatch(d, Call(TestProgram.Counter, 7, TestProgram.Opaque([1])));
        Assert.Equal(4, _program.CounterRuns);
    }

    [Fact]
    public async Task Idempotent_procedures_are_not_cached()
    {
        var drc = new DuplicateRequestCache();
        var d = Dispatcher(drc);
        await Dispatch(d, Call(TestProgram.Echo, 7, TestProgram.Opaque([1])));
        await Dispatch(d, Call(TestProgram.Echo, 7, TestProgram.Opaque([1])));
        Assert.Equal(0, drc.Count);
        Assert.Equal([false, false], _observer.Completed.Select(c => c.FromCache));
    }

    [Fact]
    public async Task Duplicate_during_execution_waits_for_the_original()
    {
        var d = Dispatcher(new DuplicateRequestCache());
        var first = Dispatch(d, Call(TestProgram.Gated, 9));
        await _program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var second = Dispatch(d, Call(TestProgram.Gated, 9));
        Assert.False(second.IsCompleted); // it must be waiting on the gate like the original
        _program.Gate.SetResult();
        var a = await first;
        var b = await second;
        Assert.Equal(a, b);
        Assert.Equal(1, _program.GatedRuns);
        Assert.Equal(0xCAFEu, new XdrReader(a.AsSpan(24)).ReadUInt32());
    }

    [Fact]
    public async Task Entry_count_is_bounded()
    {
        var drc = new DuplicateRequestCache(maxEntries: 2);
        var d = Dispatcher(drc);
        await Dispatch(d, Call(TestProgram.Counter, 1));
        await Dispatch(d, Call(TestProgram.Counter, 2));
        await Dispatch(d, Call(TestProgram.Counter, 3)); // evicts xid 1
        Assert.Equal(2, drc.Count);
        await Dispatch(d, Call(TestProgram.Counter, 3)); // still cached
        Assert.Equal(3, _program.CounterRuns);
        await Dispatch(d, Call(TestProgram.Counter, 1)); // forgotten: runs again
        Assert.Equal(4, _program.CounterRuns);
    }

    [Fact]
    public async Task Entries_expire_by_age()
    {
        var d = Dispatcher(new DuplicateRequestCache(maxAge: TimeSpan.Zero));
        await Dispatch(d, Call(TestProgram.Counter, 1));
        await Dispatch(d, Call(TestProgram.Counter, 1));
        Assert.Equal(2, _program.CounterRuns);
    }

    [Fact]
    public async Task Cancelled_original_lets_the_duplicate_execute()
    {
        var d = Dispatcher(new DuplicateRequestCache());
        using var cts = new CancellationTokenSource();
        var first = d.DispatchAsync(Call(TestProgram.Gated, 4), new IPEndPoint(IPAddress.Loopback, 1), 1, cts.Token).AsTask();
        await _program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var second = Dispatch(d, Call(TestProgram.Gated, 4));
        cts.Cancel();
        using (var r = await first) Assert.True(r.IsEmpty);
        _program.Gate.SetResult();
        var b = await second;
        Assert.Equal(0xCAFEu, new XdrReader(b.AsSpan(24)).ReadUInt32());
        Assert.Equal(2, _program.GatedRuns);
    }
}
