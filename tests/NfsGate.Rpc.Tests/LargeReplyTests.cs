using System.Net.Sockets;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>
/// Replies of 64 KiB and more leave the socket front through <see cref="IDirectRecordSender"/> (one gathered send,
/// past the pipe); smaller ones through the pipe. Both paths on one connection must keep every record whole.
/// </summary>
public class LargeReplyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public async Task Large_and_small_replies_on_one_connection_arrive_whole(int receiveThreads)
    {
        await using var s = new ServerHarness(new RpcServerOptions { ReceiveThreads = receiveThreads });
        await using var c = await s.ConnectAsync();
        // Sizes on both sides of the direct-send threshold, and the Echo cap (1 MiB), all in flight at once.
        int[] sizes = [3, RpcConnection.DirectSendMin - 40, RpcConnection.DirectSendMin, 70_001, 1 << 20, 0, 300_000, 5];
        var rng = new Random(7);
        var payloads = new List<byte[]>();
        var calls = new List<Task<RpcReplyMessage>>();
        for (int round = 0; round < 3; round++)
            foreach (int n in sizes)
            {
                var data = new byte[n];
                rng.NextBytes(data);
                payloads.Add(data);
                calls.Add(c.CallAsync(TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(data)));
            }
        for (int i = 0; i < calls.Count; i++)
        {
            var r = await calls[i].WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(r.IsSuccess);
            var x = new XdrReader(r.Results);
            Assert.Equal(payloads[i], x.ReadOpaque(1 << 20).ToArray());
            Assert.Equal(0, x.Remaining);
        }
        Assert.False(c.ServerClosed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public async Task Stop_does_not_hang_on_a_peer_that_never_reads_its_large_replies(int receiveThreads)
    {
        var s = new ServerHarness(new RpcServerOptions { DrainTimeout = TimeSpan.FromMilliseconds(500), ReceiveThreads = receiveThreads });
        using var peer = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(s.EndPoint);
        // 64 calls, each answered with 1 MiB: far more than the loopback socket buffers hold, so the server's sends
        // block while the peer reads nothing.
        var call = RawRpcClient.Frame(RawRpcClient.BuildCall(1, TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(new byte[1 << 20])));
        using var sendCts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var sending = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < 64; i++) await peer.SendAsync(call, SocketFlags.None, sendCts.Token);
            }
            catch (Exception x) when (x is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // the server stopped reading, then closed
            }
        });
        // Wait until replies are stuck: the server holds calls in flight it cannot answer.
        var until = DateTime.UtcNow.AddSeconds(30);
        while (s.Server.ConnectionCount == 0 || !await RepliesBlockedAsync(peer))
        {
            Assert.True(DateTime.UtcNow < until, "the server never blocked on its replies");
            await Task.Delay(50);
        }
        await s.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, s.Server.ConnectionCount);
        sendCts.Cancel();
        peer.Dispose();
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        await s.DisposeAsync();
    }

    // The peer's receive queue holds at least 2 MiB it has not read: the server's later sends are waiting for room.
    private static async Task<bool> RepliesBlockedAsync(Socket peer)
    {
        int before = peer.Available;
        await Task.Delay(200);
        return before > 0 && peer.Available == before;
    }
}
