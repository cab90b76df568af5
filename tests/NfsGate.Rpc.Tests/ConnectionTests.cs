using System.Net;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>Both receive loops of a connection (async on the pool, blocking on a thread of its own) under one contract.</summary>
public abstract class ConnectionContract
{
    protected abstract bool Blocking { get; }

    private PipeHarness Harness(RpcServerOptions? options = null) => new(options, blocking: Blocking);

    private static byte[] Fragment(bool last, ReadOnlySpan<byte> body)
    {
        var f = new byte[4 + body.Length];
        RecordMarking.WriteHeader(f, body.Length, last);
        body.CopyTo(f.AsSpan(4));
        return f;
    }

    [Fact]
    public async Task Fast_reply_overtakes_a_slow_one()
    {
        await using var h = Harness();
        await h.SendCallAsync(1, TestProgram.Gated, []);
        await h.SendCallAsync(2, TestProgram.Echo, TestProgram.Opaque([5]));
        var first = await h.ReadReplyAsync();
        Assert.Equal(2u, first!.Xid);
        Assert.True(first.IsSuccess);
        h.Program.Gate.SetResult();
        var second = await h.ReadReplyAsync();
        Assert.Equal(1u, second!.Xid);
        Assert.Equal(new byte[] { 0, 0, 0xCA, 0xFE }, second.Results);
    }

    [Fact]
    public async Task Many_calls_in_one_write_all_get_their_reply()
    {
        await using var h = Harness();
        var batch = new List<byte>();
        for (uint x = 100; x < 164; x++)
            batch.AddRange(RawRpcClient.Frame(RawRpcClient.BuildCall(x, TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(BitConverter.GetBytes(x)))));
        await h.SendAsync(batch.ToArray());
        var seen = new HashSet<uint>();
        for (int i = 0; i < 64; i++)
        {
            var r = await h.ReadReplyAsync();
            Assert.True(r!.IsSuccess);
            Assert.Equal(BitConverter.GetBytes(r.Xid), new XdrReader(r.Results).ReadOpaque(4).ToArray());
            Assert.True(seen.Add(r.Xid));
        }
        Assert.Equal(64, seen.Count);
    }

    [Fact]
    public async Task Multi_fragment_call_is_reassembled()
    {
        await using var h = Harness();
        var payload = new byte[3000];
        new Random(7).NextBytes(payload);
        var call = RawRpcClient.BuildCall(5, TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(payload));
        var wire = new List<byte>();
        for (int off = 0; off < call.Length; off += 1000)
            wire.AddRange(Fragment(off + 1000 >= call.Length, call.AsSpan(off, Math.Min(1000, call.Length - off))));
        await h.SendAsync(wire.ToArray());
        var r = await h.ReadReplyAsync();
        Assert.Equal(payload, new XdrReader(r!.Results).ReadOpaque(4000).ToArray());
    }

    [Fact]
    public async Task Oversized_record_closes_the_connection_without_a_reply()
    {
        await using var h = Harness(new RpcServerOptions { MaxRecordSize = 1024 });
        await h.SendAsync(Fragment(true, new byte[1025])[..8]); // header announcing 1025 bytes, and a little body
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.RecordTooLarge, h.Connection.CloseReason);
        Assert.Null(await h.ReadReplyAsync());
    }

    [Fact]
    public async Task Slow_drip_record_is_closed_after_the_timeout()
    {
        await using var h = Harness(new RpcServerOptions { IncompleteRecordTimeout = TimeSpan.FromMilliseconds(200) });
        var call = RawRpcClient.Frame(RawRpcClient.BuildCall(1, TestProgram.Number, 3, TestProgram.Null, []));
        await h.SendAsync(call[..10]);
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.SlowRecord, h.Connection.CloseReason);
    }

    [Fact]
    public async Task Record_trickling_in_byte_by_byte_is_closed_after_the_timeout()
    {
        await using var h = Harness(new RpcServerOptions { IncompleteRecordTimeout = TimeSpan.FromMilliseconds(300) });
        // A 4000-byte record, one byte every 20 ms: it would take 80 s to complete; bytes keep arriving all along.
        var header = new byte[4];
        RecordMarking.WriteHeader(header, 4000);
        await h.SendAsync(header);
        for (int i = 0; i < 4000 && !h.Run.IsCompleted; i++)
        {
            await h.SendAsync(new byte[] { 0 });
            await Task.Delay(20);
        }
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.SlowRecord, h.Connection.CloseReason);
    }

    [Fact]
    public async Task Idle_connection_is_closed()
    {
        await using var h = Harness(new RpcServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        await h.SendCallAsync(1, TestProgram.Null, []);
        Assert.True((await h.ReadReplyAsync())!.IsSuccess);
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.Idle, h.Connection.CloseReason);
    }

    [Fact]
    public async Task Call_in_progress_keeps_an_otherwise_idle_connection_open()
    {
        await using var h = Harness(new RpcServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(50) });
        await h.SendCallAsync(1, TestProgram.Gated, []);
        await h.Program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(300); // several idle periods pass while the call runs
        Assert.False(h.Run.IsCompleted);
        h.Program.Gate.SetResult();
        Assert.Equal(1u, (await h.ReadReplyAsync())!.Xid);
    }

    [Fact]
    public async Task In_flight_calls_are_bounded()
    {
        await using var h = Harness(new RpcServerOptions { MaxInFlightPerConnection = 2 });
        for (uint x = 1; x <= 4; x++) await h.SendCallAsync(x, TestProgram.Gated, []);
        await h.Program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // Both slots fill (polled: on a loaded machine the second call may start late)...
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (h.Program.GatedRuns < 2 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(2, h.Program.GatedRuns);
        // ...and stay the only ones running: give an unbounded reader every chance to start the others.
        await Task.Delay(200);
        Assert.Equal(2, h.Program.GatedRuns);
        Assert.True(h.Connection.InFlight <= 2);
        h.Program.Gate.SetResult();
        var xids = new HashSet<uint>();
        for (int i = 0; i < 4; i++) xids.Add((await h.ReadReplyAsync())!.Xid);
        Assert.Equal(new HashSet<uint> { 1, 2, 3, 4 }, xids);
        Assert.Equal(4, h.Program.GatedRuns);
    }

    [Fact]
    public async Task Connection_whose_slots_never_free_is_given_up()
    {
        await using var h = Harness(new RpcServerOptions { MaxInFlightPerConnection = 1, IdleTimeout = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromMilliseconds(100) });
        await h.SendCallAsync(1, TestProgram.Gated, []);
        await h.SendCallAsync(2, TestProgram.Null, []);
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.Stalled, h.Connection.CloseReason);
    }

    [Fact]
    public async Task Peer_closing_mid_record_ends_the_connection()
    {
        await using var h = Harness();
        var call = RawRpcClient.Frame(RawRpcClient.BuildCall(1, TestProgram.Number, 3, TestProgram.Null, []));
        await h.SendAsync(call[..^3]);
        await h.CompleteInputAsync();
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.Truncated, h.Connection.CloseReason);
    }

    [Fact]
    public async Task Peer_closing_after_a_call_still_gets_the_reply()
    {
        await using var h = Harness();
        await h.SendCallAsync(1, TestProgram.Sleep, TestProgram.Int(50));
        await h.CompleteInputAsync();
        var r = await h.ReadReplyAsync();
        Assert.Equal(1u, r!.Xid);
        Assert.True(r.IsSuccess);
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.PeerClosed, h.Connection.CloseReason);
        Assert.Null(await h.ReadReplyAsync());
    }

    [Fact]
    public async Task Stopping_cancels_calls_and_closes()
    {
        await using var h = Harness();
        await h.SendCallAsync(1, TestProgram.Gated, []);
        await h.Program.GatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        h.Stop.Cancel();
        Assert.True(await h.EndedAsync());
        Assert.Equal(RpcCloseReason.Stopped, h.Connection.CloseReason);
        Assert.Null(await h.ReadReplyAsync()); // the cancelled call got no reply
    }

    [Fact]
    public async Task Calls_read_together_all_get_answers_in_any_order()
    {
        await using var h = Harness();
        await h.SendCallsAsync((1, TestProgram.WhereQuick), (2, TestProgram.WhereNotQuick), (3, TestProgram.Null), (4, TestProgram.WhereQuick));
        var xids = new List<uint>();
        for (int i = 0; i < 4; i++) xids.Add((await h.ReadReplyAsync())!.Xid);
        Assert.Equal([1u, 2u, 3u, 4u], xids.Order());
    }

    [Fact]
    public void Ipv4_mapped_client_is_unmapped()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.3"), 900);
        var conn = new RpcConnection(new Duplex(new System.IO.Pipelines.Pipe().Reader, new System.IO.Pipelines.Pipe().Writer), mapped, 1, new RpcDispatcher());
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 900), conn.Client);
    }

    protected sealed class Duplex(System.IO.Pipelines.PipeReader input, System.IO.Pipelines.PipeWriter output) : System.IO.Pipelines.IDuplexPipe
    {
        public System.IO.Pipelines.PipeReader Input { get; } = input;
        public System.IO.Pipelines.PipeWriter Output { get; } = output;
    }
}

public sealed class AsyncLoopConnectionTests : ConnectionContract
{
    protected override bool Blocking => false;

    [Fact]
    public async Task Every_call_runs_on_the_pool()
    {
        await using var h = new PipeHarness();
        await h.SendCallAsync(1, TestProgram.WhereQuick, []);
        Assert.True(TestProgram.RanOnPool((await h.ReadReplyAsync())!.Results));
    }
}

public sealed class BlockingLoopConnectionTests : ConnectionContract
{
    protected override bool Blocking => true;

    [Fact]
    public async Task A_quick_call_is_answered_on_the_receive_thread_and_others_on_the_pool()
    {
        await using var h = new PipeHarness(blocking: true);
        await h.SendCallAsync(1, TestProgram.WhereQuick, []);
        var quick = (await h.ReadReplyAsync())!;
        Assert.False(TestProgram.RanOnPool(quick.Results));
        var x = new XdrReader(quick.Results);
        x.ReadUInt32();
        Assert.Equal("RPC receive", x.ReadString(64));

        await h.SendCallAsync(2, TestProgram.WhereNotQuick, []);
        Assert.True(TestProgram.RanOnPool((await h.ReadReplyAsync())!.Results));
    }

    [Fact]
    public async Task Only_the_last_of_calls_read_together_runs_on_the_receive_thread()
    {
        // With more calls waiting, the thread hands a quick call to the pool and goes on reading, so pipelined calls
        // still run side by side; the last one it answers itself.
        await using var h = new PipeHarness(blocking: true);
        await h.SendCallsAsync((1, TestProgram.WhereQuick), (2, TestProgram.WhereQuick));
        var onPool = new Dictionary<uint, bool>();
        for (int i = 0; i < 2; i++)
        {
            var r = (await h.ReadReplyAsync())!;
            onPool[r.Xid] = TestProgram.RanOnPool(r.Results);
        }
        Assert.True(onPool[1]);
        Assert.False(onPool[2]);
    }

    [Fact]
    public void A_transport_without_blocking_receive_is_refused()
    {
        var conn = new RpcConnection(new Duplex(new System.IO.Pipelines.Pipe().Reader, new System.IO.Pipelines.Pipe().Writer),
            new IPEndPoint(IPAddress.Loopback, 1), 1, new RpcDispatcher());
        Assert.Throws<InvalidOperationException>(() => conn.RunBlocking());
    }
}
