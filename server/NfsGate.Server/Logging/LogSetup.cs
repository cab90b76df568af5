using NfsGate.Server.Config;
using Serilog;
using Serilog.Core;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace NfsGate.Server.Logging;

/// <summary>Serilog as the Microsoft.Extensions.Logging provider, so every layer's ILogger ends up in one place.</summary>
public static class LogSetup
{
    const string TextTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {SourceContext}: {Message:lj}{RequestContext}{NewLine}{Exception}";
    /// <summary>A file also rolls when it reaches this size, so a debug burst cannot fill the disk between midnights.</summary>
    public const long FileSizeLimitBytes = 100L << 20;
    const int RetainedFiles = 14;

    public static GatewayLogging Create(LogConfig config)
    {
        var levelSwitch = new LoggingLevelSwitch(config.Level);
        var lc = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(levelSwitch)
            // Kestrel and hosting chatter at Information is noise for an NFS server's operator.
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .Enrich.FromLogContext();
        // After FromLogContext (enrichers run in order): the suffix is made from the properties it adds.
        if (config.Format == LogFormat.Text) lc = lc.Enrich.With<RequestContextText>();
        // Logs go to stderr so stdout stays clean for command output (check-config prints JSON there).
        lc = config.Format == LogFormat.Json
            ? lc.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
            : lc.WriteTo.Console(outputTemplate: TextTemplate, standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (config.File is not null)
        {
            lc = config.Format == LogFormat.Json
                ? lc.WriteTo.File(new CompactJsonFormatter(), config.File, rollingInterval: RollingInterval.Day, retainedFileCountLimit: RetainedFiles,
                    fileSizeLimitBytes: FileSizeLimitBytes, rollOnFileSizeLimit: true)
                : lc.WriteTo.File(config.File, outputTemplate: TextTemplate, rollingInterval: RollingInterval.Day, retainedFileCountLimit: RetainedFiles,
                    fileSizeLimitBytes: FileSizeLimitBytes, rollOnFileSizeLimit: true, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
        return new GatewayLogging(new SerilogLoggerFactory(lc.CreateLogger(), dispose: true), levelSwitch);
    }
}
