using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>QoS through the admin API and <c>nfsgate qos</c> against the real in-process gateway, and persistence across restarts.</summary>
public sealed class QosAdminTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-qos-{Guid.NewGuid():N}");
    readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config() => ConfigLoader.Parse($$"""
        { "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}",
          "exports": [ { "name": "a", "path": "/a", "qos": { "read": "100MiB/s" } }, { "name": "b", "path": "/b" } ] }
        """, "(test)", new Dictionary<string, string>(), []);

    Task<GatewayHost> StartAsync() => GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);

    string Url(GatewayHost host, string path) => $"http://{host.HttpEndpoint}{path}";

    async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(GatewayHost host, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, Url(host, path));
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Fact]
    public async Task Put_applies_at_once_persists_across_a_restart_and_delete_returns_to_the_config()
    {
        await using (var host = await StartAsync())
        {
            var (status, all) = await SendAsync(host, HttpMethod.Get, "/admin/qos");
            Assert.Equal(HttpStatusCode.OK, status);
            var a = all["exports"]!.AsArray().Single(e => e!["export"]!.GetValue<string>() == "a")!;
            Assert.Equal("config", a["source"]!.GetValue<string>());
            Assert.Equal("100MiB/s", a["qos"]!["read"]!.GetValue<string>());
            Assert.Equal("none", all["exports"]!.AsArray().Single(e => e!["export"]!.GetValue<string>() == "b")!["source"]!.GetValue<string>());

            (status, var put) = await SendAsync(host, HttpMethod.Put, "/admin/qos/b", """{ "write": "20MiB/s", "clients": [ { "match": "127.0.0.2", "iops": 50 } ] }""");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("runtime", put["source"]!.GetValue<string>());
            Assert.Equal(20L << 20, host.Qos.Engine.Get("b").Export.WriteBytesPerSecond);
            Assert.Equal(50, host.Qos.Engine.Get("b").Clients[0].Rates.OpsPerSecond);
            Assert.True(File.Exists(Path.Combine(_dataDir, QosAdmin.StateFileName)));
        }
        await using (var host = await StartAsync())
        {
            Assert.Equal(20L << 20, host.Qos.Engine.Get("b").Export.WriteBytesPerSecond);
            var (_, b) = await SendAsync(host, HttpMethod.Get, "/admin/qos/b");
            Assert.Equal("runtime", b["source"]!.GetValue<string>());
            Assert.Equal("127.0.0.2", b["qos"]!["clients"]![0]!["match"]!.GetValue<string>());

            var (status, reset) = await SendAsync(host, HttpMethod.Delete, "/admin/qos/b");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("none", reset["source"]!.GetValue<string>());
            Assert.True(host.Qos.Engine.Get("b").IsEmpty);
            // {} is an override too: no caps, whatever the config says.
            (status, var cleared) = await SendAsync(host, HttpMethod.Put, "/admin/qos/a", "{}");
            Assert.Equal("runtime", cleared["source"]!.GetValue<string>());
            Assert.True(host.Qos.Engine.Get("a").IsEmpty);
        }
        await using (var host = await StartAsync())
        {
            Assert.True(host.Qos.Engine.Get("b").IsEmpty);
            Assert.True(host.Qos.Engine.Get("a").IsEmpty);
            await SendAsync(host, HttpMethod.Delete, "/admin/qos/a");
            Assert.Equal(100L << 20, host.Qos.Engine.Get("a").Export.ReadBytesPerSecond);
        }
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_the_key_and_change_nothing()
    {
        await using var host = await StartAsync();
        var (status, body) = await SendAsync(host, HttpMethod.Put, "/admin/qos/a", """{ "read": "100MB/s" }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("qos.read: expected a rate", body["error"]!.GetValue<string>());
        (status, body) = await SendAsync(host, HttpMethod.Put, "/admin/qos/a", """{ "read": """);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, body) = await SendAsync(host, HttpMethod.Put, "/admin/qos/nope", """{ "read": "1MiB/s" }""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("nope", body["error"]!.GetValue<string>());
        (status, _) = await SendAsync(host, HttpMethod.Get, "/admin/qos/nope");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(100L << 20, host.Qos.Engine.Get("a").Export.ReadBytesPerSecond);
        Assert.False(File.Exists(Path.Combine(_dataDir, QosAdmin.StateFileName)));
    }

    [Fact]
    public async Task A_damaged_state_file_stops_start_up_naming_it()
    {
        Directory.CreateDirectory(_dataDir);
        string path = Path.Combine(_dataDir, QosAdmin.StateFileName);
        await File.WriteAllTextAsync(path, """{ "exports": { "a": { "read": "lots" } } }""");
        var e = await Assert.ThrowsAsync<ConfigException>(StartAsync);
        Assert.Contains(path, e.KeyPath);
        Assert.Contains("read", e.KeyPath);
    }

    [Fact]
    public async Task The_cli_sets_and_shows_caps_through_the_running_server()
    {
        await using var host = await StartAsync();
        var config = Config() with { Http = host.HttpEndpoint };
        var (exit, stdout, stderr) = await RunAsync(config, "qos", "set", "--export", "b", "--read", "30MiB/s", "--iops", "400", "--burst", "2s");
        Assert.True(exit == 0, stderr);
        Assert.Contains("b (runtime): read 30MiB/s, write off, iops 400, burst 2s", stdout);
        (exit, stdout, stderr) = await RunAsync(config, "qos", "set", "--export", "b", "--client", "10.1.2.0/24", "--write", "5MiB");
        Assert.True(exit == 0, stderr);
        Assert.Contains("client 10.1.2.0/24 (each address): read off, write 5MiB/s", stdout);
        Assert.Equal(30L << 20, host.Qos.Engine.Get("b").Export.ReadBytesPerSecond); // untouched by the client change
        (exit, stdout, _) = await RunAsync(config, "qos", "show");
        Assert.Equal(0, exit);
        Assert.Contains("a (config): read 100MiB/s", stdout);
        Assert.Contains("b (runtime): read 30MiB/s", stdout);
        (exit, _, stderr) = await RunAsync(config, "qos", "set", "--export", "zzz", "--read", "1MiB/s");
        Assert.Equal(1, exit);
        Assert.Contains("no export named \"zzz\"", stderr);
        (exit, stdout, _) = await RunAsync(config, "qos", "reset", "--export", "b");
        Assert.Equal(0, exit);
        Assert.Contains("b (none)", stdout);
    }

    static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(GatewayConfig config, params string[] args)
    {
        var command = CommandLine.Parse(args);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await QosCommand.RunAsync(config, command, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task The_gateway_dispatcher_enforces_what_the_api_sets()
    {
        await using var host = await StartAsync();
        await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
        var root = await nfs.MountHandleAsync("/b");
        var f = await nfs.CreateAsync(root, "f");
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.WriteAsync(f.Handle!, 0, new byte[64 * 1024])).Status);
        // 1 KiB/s: the first 64 KiB READ spends the burst and a minute of debt; the next would wait far past 50 ms.
        var (status, _) = await SendAsync(host, HttpMethod.Put, "/admin/qos/b", """{ "read": "1KiB/s", "maxDelay": "50ms" }""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.ReadAsync(f.Handle!, 0, 64 * 1024)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_JUKEBOX, (await nfs.ReadAsync(f.Handle!, 0, 64 * 1024)).Status);
        var (_, b) = await SendAsync(host, HttpMethod.Get, "/admin/qos/b");
        Assert.Equal(1, b["stats"]!["rejected"]!.GetValue<long>());
        // Lifted at runtime: the next READ runs at once.
        await SendAsync(host, HttpMethod.Put, "/admin/qos/b", "{}");
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.ReadAsync(f.Handle!, 0, 64 * 1024)).Status);
    }
}
