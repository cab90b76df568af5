using System.Net;
using System.Net.Sockets;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>The server over TCP, with connections on receive threads of their own and on the async loop.</summary>
public abstract class ServerContract
{
    protected abstract int ReceiveThreads { get; }

    private ServerHarness Server(RpcServerOptions? options = null, DuplicateRequestCache? drc = null, params IPEndPoint[] endpoints)
    {
        options ??= new RpcServerOptions();
        options.ReceiveThreads = ReceiveThreads;
        return new ServerHarness(options, drc, endpoints);
    }

    private static readonly IPAddress Loopback2 = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Serves_calls_over_tcp_with_the_bound_port()
    {
        await using var s = Server();
        Assert.NotEqual(0, s.EndPoint.Port);
        await using var c = await s.ConnectAsync();
        var r = await c.CallAsync(TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque([1, 2, 3]));
        Assert.True(r.IsSuccess);
        Assert.Equal(AuthFlavor.AUTH_NONE, r.VerifierFlavor);
        Assert.Equal(new byte[] { 1, 2, 3 }, new XdrReader(r.Results).ReadOpaque(3).ToArray());
    }

    [Fact]
    public async Task Client_address_and_credential_reach_the_handler()
    {
        await using var s = Server();
        await using var c = await s.ConnectAsync(Loopback2);
        var r = await c.CallAsync(TestProgram.Number, 3, TestProgram.WhoAmI, [], RpcClientCredential.Sys(1000, 100, 4, 5));
        var x = new XdrReader(r.Results);
        Assert.Equal((uint)AuthFlavor.AUTH_SYS, x.ReadUInt32());
        Assert.Equal(1000u, x.ReadUInt32());
        Assert.Equal(100u, x.ReadUInt32());
        Assert.Equal(2u, x.ReadUInt32());
        Assert.Equal(4u, x.ReadUInt32());
        Assert.Equal(5u, x.ReadUInt32());
        Assert.Equal("testkit", x.ReadString(255));
        Assert.Equal("127.0.0.2", x.ReadString(64));
    }

    [Fact]
    public async Task Dual_mode_listener_reports_ipv4_clients_unmapped()
    {
        if (!Socket.OSSupportsIPv6) return; // nothing to test on a host without IPv6 sockets
        await using var s = Server(endpoints: new IPEndPoint(IPAddress.IPv6Any, 0));
        await using var c = await s.ConnectAsync(to: new IPEndPoint(IPAddress.Loopback, s.EndPoint.Port));
        var r = await c.CallAsync(TestProgram.Number, 3, TestProgram.WhoAmI, []);
        var x = new XdrReader(r.Results);
        for (int i = 0; i < 4; i++) x.ReadUInt32();
        x.ReadString(255);
        Assert.Equal("127.0.0.1", x.ReadString(64));
    }

    [Fact]
    public async Task Listens_on_several_endpoints()
    {
        await using var s = Server(endpoints: [new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(Loopback2, 0)]);
        Assert.Equal(2, s.Server.LocalEndPoints.Count);
        foreach (var ep in s.Server.LocalEndPoints)
        {
            Assert.NotEqual(0, ep.Port);
            await using var c = await s.ConnectAsync(to: ep);
            Assert.True((await c.CallAsync(TestProgram.Number, 2, TestProgram.Null, [])).IsSuccess);
        }
    }

    [Fact]
    public async Task Outstanding_calls_are_matched_by_xid()
    {
        await using var s = Server();
        await using var c = await s.ConnectAsync();
        var slow = c.CallAsync(TestProgram.Number, 3, TestProgram.Gated, []);
        await s.Program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var fast = await c.CallAsync(TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque([9]));
        Assert.True(fast.IsSuccess);
        Assert.False(slow.IsCompleted);
        s.Program.Gate.SetResult();
        Assert.Equal(new byte[] { 0, 0, 0xCA, 0xFE }, (await slow).Results);
    }

    [Fact]
    public async Task Replay_after_reconnect_returns_the_cached_reply()
    {
        await using var s = Server(drc: new DuplicateRequestCache());
        var framed = RawRpcClient.Frame(RawRpcClient.BuildCall(0xABCD, TestProgram.Number, 3, TestProgram.Counter, []));
        RpcReplyMessage first;
        await using (var c1 = await s.ConnectAsync())
            first = await c1.SendAndWaitAsync(0xABCD, framed);
        await using var c2 = await s.ConnectAsync(); // a new source port
        var again = await c2.SendAndWaitAsync(0xABCD, framed);
        Assert.Equal(first.Raw, again.Raw);
        Assert.Equal(1, s.Program.CounterRuns);
    }

    [Fact]
    public async Task Header_errors_come_back_over_tcp()
    {
        await using var s = Server();
        await using var c = await s.ConnectAsync();
        var mismatch = await c.SendAndWaitAsync(1, RawRpcClient.Frame(RawRpcClient.BuildCall(1, TestProgram.Number, 3, 0, [], rpcVersion: 3)));
        Assert.Equal((ReplyStat.MSG_DENIED, RejectStat.RPC_MISMATCH, 2u, 2u), (mismatch.ReplyStat, mismatch.RejectStat, mismatch.MismatchLow, mismatch.MismatchHigh));
        var progMismatch = await c.CallAsync(TestProgram.Number, 9, 0, []);
        Assert.Equal((AcceptStat.PROG_MISMATCH, 2u, 4u), (progMismatch.AcceptStat, progMismatch.MismatchLow, progMismatch.MismatchHigh));
        var weak = await c.CallAsync(TestProgram.Number, 3, 0, [], new RpcClientCredential(AuthFlavor.AUTH_DH));
        Assert.Equal((ReplyStat.MSG_DENIED, RejectStat.AUTH_ERROR, AuthStat.AUTH_TOOWEAK), (weak.ReplyStat, weak.RejectStat, weak.AuthStat));
        Assert.Equal(AcceptStat.PROG_UNAVAIL, (await c.CallAsync(1, 1, 0, [])).AcceptStat);
        Assert.Equal(AcceptStat.PROC_UNAVAIL, (await c.CallAsync(TestProgram.Number, 3, 77, [])).AcceptStat);
        Assert.Equal(AcceptStat.GARBAGE_ARGS, (await c.CallAsync(TestProgram.Number, 3, TestProgram.ThrowXdrAsync, [])).AcceptStat);
        Assert.Equal(AcceptStat.SYSTEM_ERR, (await c.CallAsync(TestProgram.Number, 3, TestProgram.ThrowOther, [])).AcceptStat);
        Assert.False(c.ServerClosed);
    }

    [Fact]
    public async Task Oversized_record_closes_only_that_connection()
    {
        await using var s = Server(new RpcServerOptions { MaxRecordSize = 4096 });
        await using var bad = await s.ConnectAsync();
        await using var good = await s.ConnectAsync();
        await bad.SendRawAsync(new byte[] { 0x80, 0, 0x10, 0x01 }); // 4097 bytes announced
        Assert.True(await bad.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
        Assert.True((await good.CallAsync(TestProgram.Number, 3, TestProgram.Null, [])).IsSuccess);
    }

    [Fact]
    public async Task Slow_drip_connection_is_closed()
    {
        await using var s = Server(new RpcServerOptions { IncompleteRecordTimeout = TimeSpan.FromMilliseconds(200) });
        await using var c = await s.ConnectAsync();
        await c.SendRawAsync(new byte[] { 0x80, 0, 0 });
        Assert.True(await c.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Connections_beyond_the_cap_are_closed()
    {
        await using var s = Server(new RpcServerOptions { MaxConnections = 1 });
        await using var first = await s.ConnectAsync();
        Assert.True((await first.CallAsync(TestProgram.Number, 3, TestProgram.Null, [])).IsSuccess);
        await using var second = await s.ConnectAsync();
        Assert.True(await second.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
        Assert.True((await first.CallAsync(TestProgram.Number, 3, TestProgram.Null, [])).IsSuccess);
    }

    [Fact]
    public async Task Stop_closes_listeners_and_connections()
    {
        var s = Server();
        var c = await s.ConnectAsync();
        Assert.True((await c.CallAsync(TestProgram.Number, 3, TestProgram.Null, [])).IsSuccess);
        var pending = c.CallAsync(TestProgram.Number, 3, TestProgram.Gated, []);
        await s.Program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await s.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(await c.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
        await Assert.ThrowsAsync<IOException>(() => pending);
        Assert.Equal(0, s.Server.ConnectionCount);
        await Assert.ThrowsAnyAsync<SocketException>(() => RawRpcClient.ConnectAsync(s.EndPoint));
        await c.DisposeAsync();
        await s.DisposeAsync();
    }
}

public sealed class ReceiveThreadServerTests : ServerContract
{
    protected override int ReceiveThreads => 64;

    [Fact]
    public async Task Connections_past_the_thread_cap_use_the_async_loop()
    {
        await using var s = new ServerHarness(new RpcServerOptions { ReceiveThreads = 1 });
        await using var first = await s.ConnectAsync();
        var r1 = await first.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, []);
        Assert.False(TestProgram.RanOnPool(r1.Results));
        Assert.Equal(1, s.Server.ReceiveThreadsInUse);
        await using var second = await s.ConnectAsync();
        var r2 = await second.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, []);
        Assert.True(TestProgram.RanOnPool(r2.Results));
        Assert.Equal(1, s.Server.ReceiveThreadsInUse);

        // The thread is given back when its connection ends; the next connection gets it.
        await first.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (s.Server.ReceiveThreadsInUse != 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(0, s.Server.ReceiveThreadsInUse);
        await using var third = await s.ConnectAsync();
        var r3 = await third.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, []);
        Assert.False(TestProgram.RanOnPool(r3.Results));
    }

    [Fact]
    public async Task Calls_that_go_through_the_pool_count_their_wait_there()
    {
        await using var s = new ServerHarness(new RpcServerOptions { ReceiveThreads = 1 });
        await using var c = await s.ConnectAsync();
        // The receive thread answers a quick call itself: nothing queued.
        Assert.False(TestProgram.RanOnPool((await c.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, [])).Results));
        Assert.Equal(0, s.Server.PoolQueue.Calls);
        for (int i = 0; i < 5; i++)
            Assert.True(TestProgram.RanOnPool((await c.CallAsync(TestProgram.Number, 3, TestProgram.WhereNotQuick, [])).Results));
        Assert.Equal(5, s.Server.PoolQueue.Calls);
        Assert.True(s.Server.PoolQueue.Seconds > 0);
        Assert.True(s.Server.PoolQueue.Seconds < 60, $"{s.Server.PoolQueue.Seconds} s: the wait is a sum of small waits, not timestamps");

        // A connection past the receive-thread cap queues even its quick calls, and counts them in the same place.
        await using var second = await s.ConnectAsync();
        Assert.True(TestProgram.RanOnPool((await second.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, [])).Results));
        Assert.Equal(6, s.Server.PoolQueue.Calls);
    }

    [Fact]
    public async Task By_default_two_connections_per_core_get_a_thread()
    {
        // Past a few connections the pool serves them better (RpcServerOptions.ReceiveThreads); the cap follows the cores.
        Assert.Equal(2 * Environment.ProcessorCount, new RpcServerOptions().ReceiveThreads);
        await using var s = new ServerHarness(new RpcServerOptions());
        var conns = new List<RawRpcClient>();
        try
        {
            for (int i = 0; i <= RpcServerOptions.DefaultReceiveThreads; i++)
            {
                var c = await s.ConnectAsync();
                conns.Add(c);
                var r = await c.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, []);
                Assert.Equal(i == RpcServerOptions.DefaultReceiveThreads, TestProgram.RanOnPool(r.Results));
            }
            Assert.Equal(RpcServerOptions.DefaultReceiveThreads, s.Server.ReceiveThreadsInUse);
        }
        finally
        {
            foreach (var c in conns) await c.DisposeAsync();
        }
    }
}

public sealed class AsyncLoopServerTests : ServerContract
{
    protected override int ReceiveThreads => 0;

    [Fact]
    public async Task No_connection_gets_a_thread()
    {
        await using var s = new ServerHarness(new RpcServerOptions { ReceiveThreads = 0 });
        await using var c = await s.ConnectAsync();
        Assert.True(TestProgram.RanOnPool((await c.CallAsync(TestProgram.Number, 3, TestProgram.WhereQuick, [])).Results));
        Assert.Equal(0, s.Server.ReceiveThreadsInUse);
    }
}
