using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using NfsGate.Server;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>
/// The admin-API client the export, qos and warmup commands share: every command must refuse a server without an HTTP
/// listener, and say which server it could not reach, the same way.
/// </summary>
public sealed class AdminClientTests
{
    static GatewayConfig Config(string http) => ConfigLoader.Parse($$"""{ "http": "{{http}}" }""", "(test)", new Dictionary<string, string>(), []);

    [Theory]
    [InlineData("export", "export", "list")]
    [InlineData("qos", "qos", "show")]
    public async Task Every_command_refuses_a_config_with_the_http_listener_off(string name, params string[] args)
    {
        var stderr = new StringWriter();
        var command = CommandLine.Parse(args);
        int exit = name == "export"
            ? await ExportCommand.RunAsync(Config("off"), command, new StringWriter(), stderr)
            : await QosCommand.RunAsync(Config("off"), command, new StringWriter(), stderr);
        Assert.Equal(Program.ExitUsage, exit);
        Assert.Contains($"nfsgate {name}: the HTTP listener is off", stderr.ToString());
    }

    [Theory]
    [InlineData("export", "export", "list")]
    [InlineData("qos", "qos", "show")]
    public async Task Every_command_names_the_server_it_cannot_reach(string name, params string[] args)
    {
        int port = ClosedPort();
        var stderr = new StringWriter();
        var command = CommandLine.Parse(args);
        var config = Config($"127.0.0.1:{port}");
        int exit = name == "export"
            ? await ExportCommand.RunAsync(config, command, new StringWriter(), stderr)
            : await QosCommand.RunAsync(config, command, new StringWriter(), stderr);
        Assert.Equal(Program.ExitFailure, exit);
        Assert.Contains($"nfsgate {name}: cannot", stderr.ToString());
        Assert.Contains($"127.0.0.1:{port}", stderr.ToString());
    }

    [Fact]
    public void A_server_on_every_address_is_reached_on_loopback()
    {
        using var admin = AdminClient.For(Config("0.0.0.0:9200"), "export", new StringWriter(), TimeSpan.FromSeconds(1));
        Assert.Equal("http://127.0.0.1:9200", admin!.Root);
    }

    [Fact]
    public void A_reply_that_is_not_json_becomes_an_error_with_the_status()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.BadGateway) { ReasonPhrase = "Bad Gateway" };
        var body = AdminClient.Parse("<html>proxy</html>", response);
        Assert.Equal("HTTP 502 Bad Gateway: <html>proxy</html>", AdminClient.ErrorOf(body));
        Assert.Equal("no such export", AdminClient.ErrorOf(AdminClient.Parse("""{"error":"no such export"}""", response)));
        Assert.Equal("request failed", AdminClient.ErrorOf(new JsonObject()));
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
