using System.Net;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>Seeded random and mutated input: never a crash; each record gets a well-formed reply or none.</summary>
public class GarbageTests
{
    private static byte[] ValidCall(Random rnd, uint xid)
    {
        var args = new byte[rnd.Next(0, 40)];
        rnd.NextBytes(args);
        var cred = rnd.Next(2) == 0 ? RpcClientCredential.None : RpcClientCredential.Sys((uint)rnd.Next(), (uint)rnd.Next(), 1, 2, 3);
        uint proc = (uint)rnd.Next(0, 12);
        if (proc == TestProgram.Sleep) proc = TestProgram.Null; // random args would make it sleep for days
        return RawRpcClient.BuildCall(xid, TestProgram.Number, (uint)rnd.Next(1, 6), proc, TestProgram.Opaque(args), cred);
    }

    private static byte[] Mutate(Random rnd, byte[] call)
    {
        var b = (byte[])call.Clone();
        switch (rnd.Next(4))
        {
            case 0: // flip a few bytes
                for (int i = rnd.Next(1, 4); i > 0; i--) b[rnd.Next(b.Length)] ^= (byte)rnd.Next(1, 256);
                return b;
            case 1: // truncate
                return b[..rnd.Next(b.Length)];
            case 2: // append junk
                var junk = new byte[rnd.Next(1, 64)];
                rnd.NextBytes(junk);
                return [.. b, .. junk];
            default: // pure noise
                var noise = new byte[rnd.Next(0, 200)];
                rnd.NextBytes(noise);
                return noise;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Dispatcher_answers_mutated_calls_with_well_formed_replies(int seed)
    {
        var rnd = new Random(seed);
        var d = new RpcDispatcher(drc: new DuplicateRequestCache());
        var program = new TestProgram();
        program.Gate.SetResult(); // GATED calls pass straight through
        d.Register(program);
        var client = new IPEndPoint(IPAddress.Loopback, 1);
        for (int i = 0; i < 2000; i++)
        {
            var record = Mutate(rnd, ValidCall(rnd, (uint)i));
            using var reply = await d.DispatchAsync(record, client, 1, CancellationToken.None);
            if (reply.IsEmpty) continue;
            var msg = RpcReplyMessage.Parse(reply.Body.ToArray());
            Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(record), msg.Xid);
        }
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(11, false)]
    [InlineData(12, true)]
    [InlineData(13, true)]
    public async Task Connection_survives_framed_garbage(int seed, bool blocking)
    {
        var rnd = new Random(seed);
        await using var h = new PipeHarness(blocking: blocking);
        h.Program.Gate.SetResult();
        for (int i = 0; i < 300; i++)
            await h.SendAsync(RawRpcClient.Frame(Mutate(rnd, ValidCall(rnd, (uint)i))));
        const uint marker = 0xFEEDF00D;
        await h.SendCallAsync(marker, TestProgram.Null, []);
        while (true)
        {
            var r = await h.ReadReplyAsync();
            Assert.NotNull(r); // the connection must not have closed
            if (r.Xid == marker) { Assert.True(r.IsSuccess); break; }
        }
        Assert.False(h.Run.IsCompleted);
    }

    [Theory]
    [InlineData(20, 64)]
    [InlineData(21, 64)]
    [InlineData(22, 0)]
    [InlineData(23, 0)]
    public async Task Raw_noise_over_tcp_closes_or_is_ignored_and_others_are_served(int seed, int receiveThreads)
    {
        var rnd = new Random(seed);
        await using var s = new ServerHarness(new RpcServerOptions { MaxRecordSize = 64 * 1024, ReceiveThreads = receiveThreads });
        await using (var noisy = await s.ConnectAsync())
        {
            for (int i = 0; i < 20 && !noisy.ServerClosed; i++)
            {
                var noise = new byte[rnd.Next(1, 8192)];
                rnd.NextBytes(noise);
                await noisy.SendRawAsync(noise);
            }
        }
        await using var c = await s.ConnectAsync();
        Assert.True((await c.CallAsync(TestProgram.Number, 3, TestProgram.Null, [])).IsSuccess);
    }

    [Fact]
    public async Task Record_at_the_cap_is_served_and_one_byte_more_closes()
    {
        const int cap = 16 * 1024;
        await using var s = new ServerHarness(new RpcServerOptions { MaxRecordSize = cap });
        var header = RawRpcClient.BuildCall(1, TestProgram.Number, 3, TestProgram.Echo, []);
        int payload = cap - header.Length - 4;
        var atCap = RawRpcClient.BuildCall(1, TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(new byte[payload]));
        Assert.Equal(cap, atCap.Length);
        await using var c = await s.ConnectAsync();
        Assert.True((await c.SendAndWaitAsync(1, RawRpcClient.Frame(atCap))).IsSuccess);

        var over = RawRpcClient.BuildCall(2, TestProgram.Number, 3, TestProgram.Echo, TestProgram.Opaque(new byte[payload + 4]));
        await c.SendRawAsync(RawRpcClient.Frame(over));
        Assert.True(await c.WaitForCloseAsync(TimeSpan.FromSeconds(20)));
    }

    // Byte-array regressions: inputs that once broke (or could break) a decoder stay here.
    public static TheoryData<byte[]> Regressions() => new()
    {
        Array.Empty<byte>(),
        new byte[] { 0, 0, 0, 1 },
        new byte[] { 0, 0, 0, 1, 0, 0, 0, 0 },                                   // CALL with nothing after
        new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x20, 0, 0, 0x42 },    // stops after prog
        new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x20, 0, 0, 0x42, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF }, // cred length -1
    };

    [Theory]
    [MemberData(nameof(Regressions))]
    public async Task Regression_inputs_do_not_crash(byte[] record)
    {
        var d = new RpcDispatcher();
        d.Register(new TestProgram());
        using var reply = await d.DispatchAsync(record, new IPEndPoint(IPAddress.Loopback, 1), 1, CancellationToken.None);
        if (!reply.IsEmpty) RpcReplyMessage.Parse(reply.Body.ToArray());
    }
}
