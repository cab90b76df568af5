using Microsoft.Extensions.Logging;
using Serilog.Core;
using Serilog.Events;

namespace NfsGate.Server.Logging;

/// <summary>
/// The logger factory nfsgate builds (<see cref="LogSetup.Create"/>): Serilog underneath, plus the switch that holds
/// the minimum level, so an operator can turn on debug logging on a running gateway (PUT /admin/log-level) and
/// back off again without a restart.
/// </summary>
public sealed class GatewayLogging(ILoggerFactory inner, LoggingLevelSwitch levelSwitch) : ILoggerFactory
{
    public LoggingLevelSwitch LevelSwitch => levelSwitch;

    public LogEventLevel Level
    {
        get => levelSwitch.MinimumLevel;
        set => levelSwitch.MinimumLevel = value;
    }

    public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>The level names the config accepts (log.level), with their aliases; null for anything else.</summary>
    public static LogEventLevel? ParseLevel(string? text) => text?.ToLowerInvariant() switch
    {
        "verbose" or "trace" => LogEventLevel.Verbose,
        "debug" => LogEventLevel.Debug,
        "information" or "info" => LogEventLevel.Information,
        "warning" or "warn" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        "fatal" => LogEventLevel.Fatal,
        _ => null,
    };
}
