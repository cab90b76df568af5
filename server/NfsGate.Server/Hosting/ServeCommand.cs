using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using NfsGate.Server.Config;
using NfsGate.Server.Logging;

namespace NfsGate.Server.Hosting;

/// <summary>`nfsgate serve`: start the gateway, wait for SIGINT or SIGTERM, stop it in order, exit 0.</summary>
public static class ServeCommand
{
    /// <param name="configFile">Where runtime export changes are written (null = in memory only).</param>
    /// <param name="reload">Re-reads the configuration on SIGHUP (file, environment, flags); null = SIGHUP only logs.</param>
    public static async Task<int> RunAsync(GatewayConfig config, string? configFile = null, Func<GatewayConfig>? reload = null)
    {
        using var loggerFactory = LogSetup.Create(config.Log);
        var log = loggerFactory.CreateLogger("NfsGate.Server");

        NativeHeap.Start(log);

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // Cancel the default (immediate exit): shutdown must flush buffered writes first.
            context.Cancel = true;
            log.LogInformation("received {Signal}, shutting down", context.Signal);
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        GatewayHost host;
        try
        {
            host = await GatewayHost.StartAsync(config, loggerFactory, stop.Token);
        }
        catch (ConfigException e)
        {
            log.LogCritical("{Message}", e.Message);
            return Program.ExitUsage;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Program.ExitOk;
        }
        catch (Exception e)
        {
            log.LogCritical(e, "start-up failed: {Message}", e.Message);
            return Program.ExitFailure;
        }

        // SIGHUP re-reads the configuration and applies its exports (rules, quotas, trash) without a restart; other
        // sections are read only at start. The reload runs off the signal thread: it touches metadata.
        host.ExportAdmin.UseConfigFile(configFile, reload);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            log.LogInformation("received SIGHUP, reloading exports from {File}", configFile ?? "(no file: environment and flags)");
            _ = Task.Run(() => host.ExportAdmin.Reload());
        });

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // The signal handler asked for shutdown: the normal way out.
        }
        await host.DisposeAsync();
        log.LogInformation("stopped");
        return Program.ExitOk;
    }
}
