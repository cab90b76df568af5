using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Rpc;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>The real composition (RocksDB, local object store, file system, NFS/MOUNT/portmapper, HTTP) in-process on 127.0.0.1:0.</summary>
public sealed class GatewayHostTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-host-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config(string extraJson = "") => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.1:0", "portmapper": "127.0.0.1:0", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}",
          "exports": [ { "name": "default", "path": "/" }, { "name": "ro", "path": "/ro", "readOnly": true } ]
          {{extraJson}}
        }
        """, "(test)", new Dictionary<string, string>(), []);

    static async Task<(HttpStatusCode, string)> Get(IPEndPoint ep, string path)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://{ep}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>MOUNT MNT: returns (mountstat3, file handle bytes).</summary>
    static async Task<(uint Status, byte[] Handle)> Mount(IPEndPoint ep, string path)
    {
        await using var client = await RawRpcClient.ConnectAsync(ep);
        using var args = new XdrWriter();
        args.WriteString(path);
        var reply = await client.CallAsync(100005, 3, 1, args.WrittenSpan, RpcClientCredential.Sys(0, 0));
        Assert.True(reply.IsSuccess);
        var r = new XdrReader(reply.Results);
        uint status = r.ReadUInt32();
        return (status, status == 0 ? r.ReadOpaque(64).ToArray() : []);
    }

    [Fact]
    public async Task Serves_health_nfs_mount_and_portmapper()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        Assert.NotNull(host.HttpEndpoint);
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await Get(host.HttpEndpoint!, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, (await Get(host.HttpEndpoint!, "/readyz")).Item1);

        await using (var nfs = await RawRpcClient.ConnectAsync(host.NfsEndpoint!))
            Assert.True((await nfs.CallAsync(100003, 3, 0, [])).IsSuccess);

        var (status, handle) = await Mount(host.NfsEndpoint!, "/");
        Assert.Equal(0u, status);
        Assert.NotEmpty(handle);
        Assert.Equal(0u, (await Mount(host.NfsEndpoint!, "/ro")).Status);
        Assert.NotEqual(0u, (await Mount(host.NfsEndpoint!, "/nowhere/at/all")).Status);

        // GETPORT(NFS, v3, TCP) on the portmapper answers the NFS listener's port.
        await using var pmap = await RawRpcClient.ConnectAsync(host.PortmapEndpoint!);
        using var args = new XdrWriter();
        args.WriteUInt32(100003); args.WriteUInt32(3); args.WriteUInt32(6); args.WriteUInt32(0);
        var reply = await pmap.CallAsync(100000, 2, 3, args.WrittenSpan);
        Assert.True(reply.IsSuccess);
        Assert.Equal((uint)host.NfsEndpoint!.Port, new XdrReader(reply.Results).ReadUInt32());
    }

    [Fact]
    public async Task File_handles_survive_a_restart_on_the_same_data_dir()
    {
        byte[] before;
        await using (var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None))
            before = (await Mount(host.NfsEndpoint!, "/ro")).Handle;
        await using (var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None))
            Assert.Equal(before, (await Mount(host.NfsEndpoint!, "/ro")).Handle);
    }

    [Fact]
    public async Task Off_means_no_http_and_no_portmapper()
    {
        var config = Config() with { Http = null, Portmapper = null };
        await using var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None);
        Assert.Null(host.HttpEndpoint);
        Assert.Null(host.PortmapEndpoint);
        Assert.NotNull(host.NfsEndpoint);
    }

    [Fact]
    public async Task A_portmapper_port_in_use_is_a_warning_not_a_failure()
    {
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var config = Config() with { Portmapper = (IPEndPoint)squatter.LocalEndpoint };
        await using var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None);
        Assert.Null(host.PortmapEndpoint);
        Assert.Equal(0u, (await Mount(host.NfsEndpoint!, "/")).Status);
    }

    [Fact]
    public async Task An_nfs_port_in_use_fails_start_up_and_releases_the_metadata()
    {
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var config = Config() with { Listen = (IPEndPoint)squatter.LocalEndpoint };
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(
            () => GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None));
        // The RocksDB lock was released: the same data dir opens again.
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        Assert.NotNull(host.NfsEndpoint);
    }
}
