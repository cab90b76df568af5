using System.Net;
using System.Text;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

/// <summary>
/// The PROXY header at the front of a TCP connection from a trusted balancer replaces the socket's peer as the call's
/// client (what rules, QoS, metrics and the duplicate-request cache see); from any other peer it is never read.
/// </summary>
public class ProxyServerTests
{
    static readonly IPAddress Balancer = IPAddress.Parse("127.0.0.9");
    static readonly byte[] V2From10_1_2_3 = ProxyHeaderParserTests.V2Ipv4;

    static RpcServerOptions Trusting(string cidr) => new() { TrustedProxies = [IPNetwork.Parse(cidr)] };

    static async Task<string> WhoAmI(RawRpcClient c)
    {
        var r = await c.CallAsync(TestProgram.Number, 3, TestProgram.WhoAmI, [], RpcClientCredential.Sys(1, 1)).WaitAsync(TimeSpan.FromSeconds(30));
        var x = new XdrReader(r.Results);
        x.ReadUInt32(); x.ReadUInt32(); x.ReadUInt32();
        for (uint n = x.ReadUInt32(); n > 0; n--) x.ReadUInt32();
        x.ReadString(255);
        return x.ReadString(64);
    }

    static byte[] V2Claiming(string address)
    {
        byte[] h = (byte[])V2From10_1_2_3.Clone();
        IPAddress.Parse(address).GetAddressBytes().CopyTo(h, 16);
        return h;
    }

    [Fact]
    public async Task Trusted_balancer_header_names_the_client()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.9/32"));
        await using var c = await s.ConnectAsync(Balancer);
        Assert.True(await c.SendRawAsync(V2From10_1_2_3));
        Assert.Equal("10.1.2.3", await WhoAmI(c));
        // The rest of the connection keeps working as plain RPC.
        Assert.Equal("10.1.2.3", await WhoAmI(c));
    }

    [Fact]
    public async Task Header_sent_in_pieces_and_v1_header_work_too()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.8/30"));
        await using (var c = await s.ConnectAsync(Balancer))
        {
            Assert.True(await c.SendRawAsync(V2From10_1_2_3.AsMemory(0, 7)));
            await Task.Delay(20); // let the server see the first piece alone (correct either way; only exercises the re-read)
            Assert.True(await c.SendRawAsync(V2From10_1_2_3.AsMemory(7)));
            Assert.Equal("10.1.2.3", await WhoAmI(c));
        }
        await using (var c = await s.ConnectAsync(Balancer))
        {
            Assert.True(await c.SendRawAsync(Encoding.ASCII.GetBytes("PROXY TCP6 2001:db8::7 ::1 1000 2049\r\n")));
            Assert.Equal("2001:db8::7", await WhoAmI(c));
        }
    }

    [Fact]
    public async Task Local_command_keeps_the_balancer_as_the_client()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.9/32"));
        await using var c = await s.ConnectAsync(Balancer);
        Assert.True(await c.SendRawAsync(ProxyHeaderParserTests.V2Local));
        Assert.Equal("127.0.0.9", await WhoAmI(c));
    }

    [Fact]
    public async Task Trusted_balancer_without_a_header_is_closed()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.9/32"));
        await using var c = await s.ConnectAsync(Balancer);
        var reply = c.CallAsync(TestProgram.Number, 3, TestProgram.Null, []);
        Assert.True(await c.WaitForCloseAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAnyAsync<Exception>(() => reply);
    }

    [Fact]
    public async Task Untrusted_peer_is_never_parsed_for_a_header()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.9/32"));
        // Without a header: served as itself.
        await using (var plain = await s.ConnectAsync())
            Assert.Equal("127.0.0.1", await WhoAmI(plain));
        // With one: its bytes are taken as an RPC record mark (a 218 MB fragment), so the connection is closed;
        // in no case does the claimed 10.1.2.3 become the client.
        await using var c = await s.ConnectAsync();
        Assert.True(await c.SendRawAsync(V2From10_1_2_3));
        Assert.True(await c.WaitForCloseAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task No_trusted_sources_means_no_peer_is_asked_for_a_header()
    {
        await using var s = new ServerHarness();
        await using var c = await s.ConnectAsync(Balancer);
        Assert.Equal("127.0.0.9", await WhoAmI(c));
    }

    [Fact]
    public async Task Duplicate_request_cache_keys_on_the_proxied_client()
    {
        await using var s = new ServerHarness(Trusting("127.0.0.9/32"), new DuplicateRequestCache());
        var framed = RawRpcClient.Frame(RawRpcClient.BuildCall(0x5150, TestProgram.Number, 3, TestProgram.Counter, []));
        async Task<RpcReplyMessage> ThroughBalancer(string client)
        {
            await using var c = await s.ConnectAsync(Balancer);
            Assert.True(await c.SendRawAsync(V2Claiming(client)));
            return await c.SendAndWaitAsync(0x5150, framed).WaitAsync(TimeSpan.FromSeconds(30));
        }
        var first = await ThroughBalancer("10.1.2.3");
        // The same client retransmitting through another balancer connection: answered from the cache.
        Assert.Equal(first.Raw, (await ThroughBalancer("10.1.2.3")).Raw);
        Assert.Equal(1, s.Program.CounterRuns);
        // Another client behind the same balancer using the same xid is a different request.
        await ThroughBalancer("10.1.2.4");
        Assert.Equal(2, s.Program.CounterRuns);
    }

    [Fact]
    public void Trust_check_unmaps_ipv4_mapped_peers()
    {
        IReadOnlyList<IPNetwork> trusted = [IPNetwork.Parse("127.0.0.9/32"), IPNetwork.Parse("fd00::/8")];
        Assert.True(RpcServer.IsTrustedProxy(trusted, IPAddress.Parse("127.0.0.9")));
        Assert.True(RpcServer.IsTrustedProxy(trusted, IPAddress.Parse("::ffff:127.0.0.9")));
        Assert.True(RpcServer.IsTrustedProxy(trusted, IPAddress.Parse("fd12::1")));
        Assert.False(RpcServer.IsTrustedProxy(trusted, IPAddress.Parse("127.0.0.1")));
        Assert.False(RpcServer.IsTrustedProxy([], IPAddress.Parse("127.0.0.9")));
    }
}
