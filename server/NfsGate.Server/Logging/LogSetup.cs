using Microsoft.Extensions.Logging;
using NfsGate.Server.Config;
using Serilog;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace NfsGate.Server.Logging;

/// <summary>Serilog as the Microsoft.Extensions.Logging provider, so every layer's ILogger ends up in one place.</summary>
public static class LogSetup
{
    const string TextTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static ILoggerFactory Create(LogConfig config)
    {
        var lc = new LoggerConfiguration()
            .MinimumLevel.Is(config.Level)
            // Kestrel and hosting chatter at Information is noise for an NFS server's operator.
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .Enrich.FromLogContext();
        // Logs go to stderr so stdout stays clean for command output (check-config prints JSON there).
        lc = config.Format == LogFormat.Json
            ? lc.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
            : lc.WriteTo.Console(outputTemplate: TextTemplate, standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (config.File is not null)
        {
            lc = config.Format == LogFormat.Json
                ? lc.WriteTo.File(new CompactJsonFormatter(), config.File, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14)
                : lc.WriteTo.File(config.File, outputTemplate: TextTemplate, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14,
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        return new SerilogLoggerFactory(lc.CreateLogger(), dispose: true);
    }
}
