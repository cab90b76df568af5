using System.Text.Json;
using Microsoft.Extensions.Logging;
using NfsGate.Server.Config;
using NfsGate.Server.Logging;
using Serilog.Events;

namespace NfsGate.Server.Tests;

public sealed class LogSetupTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"nfsgate-log-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    string WrittenLog()
    {
        // Rolling files get the date inserted before the extension.
        string file = Assert.Single(Directory.GetFiles(_dir, "nfsgate*.log"));
        return File.ReadAllText(file);
    }

    [Fact]
    public void Json_format_writes_one_compact_json_event_per_line_at_or_above_the_level()
    {
        using (var factory = LogSetup.Create(new LogConfig(LogEventLevel.Information, LogFormat.Json, Path.Combine(_dir, "nfsgate.log"))))
        {
            var log = factory.CreateLogger("NfsGate.Test");
            log.LogDebug("hidden {N}", 1);
            log.LogWarning("export {Name} refused", "archive");
        }
        var lines = WrittenLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var e = JsonDocument.Parse(Assert.Single(lines)).RootElement;
        Assert.Equal("export {Name} refused", e.GetProperty("@mt").GetString());
        Assert.Equal("archive", e.GetProperty("Name").GetString());
        Assert.Equal("Warning", e.GetProperty("@l").GetString());
        Assert.Equal("NfsGate.Test", e.GetProperty("SourceContext").GetString());
    }

    [Fact]
    public void Text_format_names_level_and_source()
    {
        using (var factory = LogSetup.Create(new LogConfig(LogEventLevel.Debug, LogFormat.Text, Path.Combine(_dir, "nfsgate.log"))))
            factory.CreateLogger("NfsGate.Test").LogDebug("volume {Id} opened", 7);
        Assert.Contains("DBG NfsGate.Test: volume 7 opened", WrittenLog());
    }
}
