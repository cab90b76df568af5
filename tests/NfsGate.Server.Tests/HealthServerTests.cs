using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Server.Hosting;

namespace NfsGate.Server.Tests;

public class HealthServerTests
{
    static async Task<(HttpStatusCode Status, string Body)> Get(IPEndPoint ep, string path)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://{ep}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Healthz_is_ok_and_readyz_follows_the_probe()
    {
        string? problem = null;
        await using var server = await HealthServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0),
            _ => Task.FromResult(problem), NullLoggerFactory.Instance, CancellationToken.None);
        Assert.NotEqual(0, server.Endpoint.Port);

        Assert.Equal((HttpStatusCode.OK, "ok\n"), await Get(server.Endpoint, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, (await Get(server.Endpoint, "/readyz")).Status);

        problem = "metadata: closed";
        var (status, body) = await Get(server.Endpoint, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("metadata: closed", body);
        Assert.Equal(HttpStatusCode.OK, (await Get(server.Endpoint, "/healthz")).Status);
    }

    [Fact]
    public async Task A_throwing_probe_means_not_ready()
    {
        await using var server = await HealthServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0),
            _ => throw new InvalidOperationException("store down"), NullLoggerFactory.Instance, CancellationToken.None);
        var (status, body) = await Get(server.Endpoint, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("store down", body);
    }

    [Fact]
    public async Task Unknown_paths_are_404()
    {
        await using var server = await HealthServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0),
            _ => Task.FromResult<string?>(null), NullLoggerFactory.Instance, CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(server.Endpoint, "/admin")).Status);
    }
}
