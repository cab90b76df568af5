using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.Server.Logging;
using NfsGate.Server.Metrics;
using NfsGate.TestKit;
using Serilog.Events;

namespace NfsGate.Server.Tests;

/// <summary>Request context in log events, the slow-operation log, log.slowOperation, and the runtime log level.</summary>
public sealed class LoggingTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"nfsgate-logging-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    string LogFile => Path.Combine(_dir, "logs", "nfsgate.log");

    List<JsonElement> JsonEvents() =>
        Directory.GetFiles(Path.GetDirectoryName(LogFile)!, "nfsgate*.log").SelectMany(File.ReadAllLines)
            .Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    static RpcCall Call(uint xid, string client) => new()
    {
        Xid = xid, Program = 100003, Version = 3, Procedure = new RpcProcedure(1, "GETATTR", (_, _, _) => default),
        Credential = RpcCredential.None, Client = new IPEndPoint(IPAddress.Parse(client), 900), ConnectionId = 1, Args = ReadOnlyMemory<byte>.Empty,
    };

    static Export TeamA => new(1, "teama", "/", false, null!);

    [Fact]
    public void Events_written_while_a_call_runs_carry_its_xid_client_and_export()
    {
        using (var logging = LogSetup.Create(new LogConfig(LogEventLevel.Information, LogFormat.Json, LogFile)))
        {
            var nfs = new NfsMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()), new ClientLabels(), null, logContext: true);
            var log = logging.CreateLogger("NfsGate.FileSystem");
            using (nfs.OnStarted(Call(42, "10.1.2.3"), TeamA, Nfs3Proc.GETATTR))
                log.LogWarning("upload of block {Key} retried", "b1");
            log.LogWarning("background flush done");
        }
        var events = JsonEvents();
        Assert.Equal(2, events.Count);
        Assert.Equal("0000002a", events[0].GetProperty("Xid").GetString());
        Assert.Equal("10.1.2.3", events[0].GetProperty("Client").GetString());
        Assert.Equal("teama", events[0].GetProperty("Export").GetString());
        Assert.False(events[1].TryGetProperty("Xid", out _));
    }

    [Fact]
    public void Text_format_appends_the_request_context()
    {
        using (var logging = LogSetup.Create(new LogConfig(LogEventLevel.Information, LogFormat.Text, LogFile)))
        {
            var nfs = new NfsMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()), new ClientLabels(), null, logContext: true);
            using (nfs.OnStarted(Call(0xbeef, "10.1.2.3"), null, Nfs3Proc.READ))
                logging.CreateLogger("T").LogWarning("inside");
            logging.CreateLogger("T").LogWarning("outside");
        }
        var lines = File.ReadAllLines(Directory.GetFiles(Path.GetDirectoryName(LogFile)!).Single());
        Assert.EndsWith("T: inside [xid 0000beef client 10.1.2.3 export unknown]", lines[0]);
        Assert.EndsWith("T: outside", lines[1]);
    }

    [Fact]
    public void Slow_operation_log_writes_at_most_its_budget_per_second_and_counts_the_rest()
    {
        var sink = new ListLogger();
        long now = 100;
        var slow = new SlowOperationLog(sink, TimeSpan.FromMilliseconds(50), () => now);
        Assert.False(slow.IsSlow(TimeSpan.FromMilliseconds(49)));
        Assert.True(slow.IsSlow(TimeSpan.FromMilliseconds(50)));
        for (int i = 0; i < SlowOperationLog.LinesPerSecond + 5; i++)
            slow.Write("READ", "teama", IPAddress.Loopback, (uint)i, "NFS3_OK", TimeSpan.FromMilliseconds(75));
        Assert.Equal(SlowOperationLog.LinesPerSecond, sink.Lines.Count);
        now++;
        slow.Write("COMMIT", "teama", IPAddress.Loopback, 0xabc, "NFS3ERR_IO", TimeSpan.FromMilliseconds(2500));
        var last = sink.Lines[^1];
        Assert.Equal(LogLevel.Warning, last.Level);
        Assert.Equal("slow NFS3 COMMIT on export teama from 127.0.0.1: 2500.0 ms, NFS3ERR_IO (xid 00000abc; threshold 50 ms; 5 slow calls not logged since the last line)", last.Message);
    }

    [Fact]
    public async Task A_gateway_logs_slow_calls_with_their_context_and_counts_them()
    {
        // One tick: every call is slow, without the test depending on how long a call takes.
        var c = GatewayConfig();
        var config = c with { Log = c.Log with { SlowOperation = TimeSpan.FromTicks(1) } };
        using (var logging = LogSetup.Create(config.Log))
        {
            await using var host = await GatewayHost.StartAsync(config, logging, CancellationToken.None);
            await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
                Assert.Equal(NfsStat3.NFS3_OK, (await nfs.GetAttrAsync(await nfs.MountHandleAsync("/"))).Status);
            var m = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
            Assert.Equal(1, m.Get("nfsgate_nfs_slow_requests_total", ("export", "teama"), ("proc", "GETATTR")));
        }
        var slow = JsonEvents().Single(e => e.GetProperty("SourceContext").GetString() == SlowOperationLog.Category);
        Assert.Equal("GETATTR", slow.GetProperty("Proc").GetString());
        Assert.Equal("teama", slow.GetProperty("Export").GetString());
        Assert.Equal("127.0.0.1", slow.GetProperty("Client").GetString());
        Assert.Matches("^[0-9a-f]{8}$", slow.GetProperty("Xid").GetString());
    }

    [Fact]
    public async Task Log_level_changes_at_runtime_through_the_admin_api()
    {
        var config = GatewayConfig();
        using var logging = LogSetup.Create(config.Log);
        await using var host = await GatewayHost.StartAsync(config, logging, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host.HttpEndpoint}") };

        Assert.Equal("""{"level":"information"}""", await http.GetStringAsync("/admin/log-level"));
        var debugLogger = logging.CreateLogger("T");
        Assert.False(debugLogger.IsEnabled(LogLevel.Debug));

        using var put = await http.PutAsync("/admin/log-level", new StringContent("""{"level":"debug"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(LogEventLevel.Debug, logging.Level);
        Assert.True(debugLogger.IsEnabled(LogLevel.Debug));
        Assert.Equal("""{"level":"debug"}""", await http.GetStringAsync("/admin/log-level"));

        using var bad = await http.PutAsync("/admin/log-level", new StringContent("""{"level":"loud"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var huge = await http.PutAsync("/admin/log-level", new StringContent(new string(' ', 10_000) + "{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Equal(LogEventLevel.Debug, logging.Level);
    }

    [Fact]
    public async Task Log_level_api_refuses_when_nfsgate_does_not_own_the_logging()
    {
        await using var host = await GatewayHost.StartAsync(GatewayConfig(), NullLoggerFactory.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host.HttpEndpoint}") };
        using var get = await http.GetAsync("/admin/log-level");
        Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);
    }

    [Theory]
    [InlineData(null, 1000.0)]
    [InlineData("\"250ms\"", 250.0)]
    [InlineData("\"2s\"", 2000.0)]
    [InlineData("\"off\"", null)]
    public void Slow_operation_threshold_comes_from_log_slowOperation(string? value, double? expectedMs)
    {
        var log = GatewayConfig(value is null ? "" : $", \"slowOperation\": {value}").Log;
        Assert.Equal(expectedMs, log.SlowOperation?.TotalMilliseconds);
    }

    [Theory]
    [InlineData("\"0s\"")]
    [InlineData("\"soon\"")]
    [InlineData("5")]
    public void A_bad_slow_operation_threshold_names_the_key(string value)
    {
        var e = Assert.Throws<ConfigException>(() => GatewayConfig($", \"slowOperation\": {value}"));
        Assert.Contains("log.slowOperation", e.Message);
    }

    [Fact]
    public void Slow_operation_threshold_can_come_from_the_environment()
    {
        var config = ConfigLoader.Parse("{}", "(test)", new Dictionary<string, string> { ["NFSGATE_LOG__SLOWOPERATION"] = "300ms" }, []);
        Assert.Equal(TimeSpan.FromMilliseconds(300), config.Log.SlowOperation);
    }

    /// <param name="logKeys">More keys of the "log" object, each after a comma.</param>
    GatewayConfig GatewayConfig(string logKeys = "") => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dir}}",
          "exports": [ { "name": "teama", "path": "/" } ],
          "log": { "format": "json", "file": "{{LogFile}}" {{logKeys}} }
        }
        """, "(test)", new Dictionary<string, string>(), []);
}
