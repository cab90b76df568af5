using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Rpc;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>
/// A gateway behind HAProxy (send-proxy-v2): the export's client rules judge the client named in the PROXY header when,
/// and only when, the connection comes from a trusted balancer (proxyProtocol.trustedSources).
/// </summary>
public sealed class ProxyProtocolTests : IDisposable
{
    static readonly IPAddress Balancer = IPAddress.Parse("127.0.0.9");
    static readonly IPEndPoint RealClient = new(IPAddress.Parse("10.1.2.3"), 791);
    const uint MNT3ERR_ACCES = 13;

    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-proxy-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config() => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.1:0", "portmapper": "off", "http": "off", "dataDir": "{{_dataDir}}",
          "proxyProtocol": { "trustedSources": ["127.0.0.9/32"] },
          "exports": [ { "name": "default", "path": "/", "clients": [ { "match": "10.1.2.3", "access": "rw" } ] } ]
        }
        """, "(test)", new Dictionary<string, string>(), []);

    /// <summary>MNT "/" over <paramref name="client"/>: the mountstat3, or null when the server closed the connection instead.</summary>
    static async Task<uint?> Mount(RawRpcClient client)
    {
        using var args = new XdrWriter();
        args.WriteString("/");
        RpcReplyMessage reply;
        try
        {
            reply = await client.CallAsync(100005, 3, 1, args.WrittenSpan, RpcClientCredential.Sys(0, 0)).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (IOException) when (client.ServerClosed)
        {
            return null;
        }
        Assert.True(reply.IsSuccess);
        return new XdrReader(reply.Results).ReadUInt32();
    }

    [Fact]
    public async Task Client_rule_sees_the_address_in_the_header_from_a_trusted_balancer()
    {
        var config = Config();
        Assert.Equal([IPNetwork.Parse("127.0.0.9/32")], config.ProxyProtocol.TrustedSources);
        await using var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None);
        var nfs = host.NfsEndpoint!;

        // HAProxy at 127.0.0.9 relaying 10.1.2.3, the one allowed client: mounted.
        await using (var c = await RawRpcClient.ConnectAsync(nfs, Balancer))
        {
            Assert.True(await c.SendRawAsync(ProxyHeaders.V2(RealClient, nfs)));
            Assert.Equal(0u, await Mount(c));
        }
        // The v1 text header from the same balancer: the same.
        await using (var c = await RawRpcClient.ConnectAsync(nfs, Balancer))
        {
            Assert.True(await c.SendRawAsync(ProxyHeaders.V1(RealClient, nfs)));
            Assert.Equal(0u, await Mount(c));
        }
        // A LOCAL header (a health check) is the balancer itself, which the rule does not allow.
        await using (var c = await RawRpcClient.ConnectAsync(nfs, Balancer))
        {
            Assert.True(await c.SendRawAsync(ProxyHeaders.V2Local()));
            Assert.Equal(MNT3ERR_ACCES, await Mount(c));
        }
    }

    [Fact]
    public async Task Header_from_an_untrusted_peer_is_not_honoured_and_a_trusted_peer_must_send_one()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        var nfs = host.NfsEndpoint!;

        // 127.0.0.1 is not a trusted balancer: claiming 10.1.2.3 must not get it in. (Its header is read as a record
        // mark announcing a 218 MB fragment, so the server closes; a deny would do as well, a success would not.)
        await using (var c = await RawRpcClient.ConnectAsync(nfs, IPAddress.Loopback))
        {
            Assert.True(await c.SendRawAsync(ProxyHeaders.V2(RealClient, nfs)));
            Assert.NotEqual(0u, await Mount(c) ?? MNT3ERR_ACCES);
        }
        // Without a header it is judged as itself: denied.
        await using (var c = await RawRpcClient.ConnectAsync(nfs, IPAddress.Loopback))
            Assert.Equal(MNT3ERR_ACCES, await Mount(c));
        // The trusted balancer speaking RPC without a header: closed, never served as 127.0.0.9.
        await using (var c = await RawRpcClient.ConnectAsync(nfs, Balancer))
        {
            Assert.Null(await Mount(c));
            Assert.True(c.ServerClosed);
        }
    }
}
