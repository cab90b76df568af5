using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NfsGate.Server.Logging;
using NfsGate.Server.Metrics;
using Prometheus;

namespace NfsGate.Server.Hosting;

/// <summary>
/// The operator's HTTP listener (Kestrel): GET /healthz answers "ok" while the process runs; GET /readyz answers
/// 200 only when the metadata and the object store respond; GET /metrics is the Prometheus exposition (when the
/// gateway's <see cref="GatewayMetrics"/> is given); GET/PUT /admin/log-level reads and changes the log level
/// (<see cref="LogLevelApi"/>). Other admin endpoints (<see cref="AdminApi"/>) join it through <c>mapMore</c>.
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    /// <summary>A readiness probe that hangs must not hang the load balancer's check too.</summary>
    static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    readonly WebApplication _app;

    HealthServer(WebApplication app) => _app = app;

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    public static async Task<HealthServer> StartAsync(IPEndPoint endpoint, Func<CancellationToken, Task<string?>> readinessProblem,
        ILoggerFactory loggerFactory, CancellationToken ct, Action<IEndpointRouteBuilder>? mapMore = null, GatewayMetrics? metrics = null)
    {
        // Content root = the install directory, not the working directory: the web host reads appsettings.json from
        // there, and a stray one in whatever directory nfsgate was started from must not add Kestrel endpoints.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "nfsgate",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        // The gateway handles SIGINT/SIGTERM itself (it must flush data before the listeners go), so the web host
        // must not install its own console lifetime.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint));
        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (HttpContext http) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            timeout.CancelAfter(ProbeTimeout);
            string? problem;
            try
            {
                problem = await readinessProblem(timeout.Token);
            }
            catch (Exception e)
            {
                problem = e is OperationCanceledException ? "readiness probe timed out" : e.Message;
            }
            return problem is null ? Results.Text("ready\n") : Results.Text($"not ready: {problem}\n", statusCode: 503);
        });
        // prometheus-net's exporter on the existing Kestrel listener: a scrape is ~2 ms here, against ~46 ms for its
        // HttpListener server (shared/NOTES.md), and there is one port less to open.
        if (metrics is not null) app.MapMetrics("/metrics", metrics.Registry);
        LogLevelApi.Map(app, loggerFactory);
        mapMore?.Invoke(app);
        await app.StartAsync(ct);
        var server = new HealthServer(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        server.Endpoint = address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri)
            ? new IPEndPoint(endpoint.Address, uri.Port)
            : endpoint;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
