using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;

namespace NfsGate.Server;

public static class Program
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static async Task<int> Main(string[] args)
    {
        Command command;
        try
        {
            command = CommandLine.Parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"nfsgate: {e.Message}");
            Console.Error.WriteLine(CommandLine.Usage);
            return ExitUsage;
        }

        switch (command.Kind)
        {
            case CommandKind.Help:
                Console.WriteLine(CommandLine.Usage);
                return ExitOk;
            case CommandKind.Version:
                Console.WriteLine($"nfsgate {VersionText}");
                return ExitOk;
        }

        GatewayConfig config;
        try
        {
            config = ConfigLoader.Load(command.ConfigFile, flagOverrides: command.Overrides);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return ExitUsage;
        }

        switch (command.Kind)
        {
            case CommandKind.CheckConfig:
                Console.WriteLine(ConfigPrinter.ToJson(config));
                return ExitOk;
            case CommandKind.Fsck:
                return await MaintenanceCommand.FsckAsync(config, command, Console.Out, Console.Error);
            case CommandKind.Gc:
                return await MaintenanceCommand.GcAsync(config, command, Console.Out, Console.Error);
            case CommandKind.Status:
                return StatusCommand.Run(config, Console.Out, Console.Error);
            case CommandKind.Export:
                return await ExportCommand.RunAsync(config, command, Console.Out, Console.Error);
            case CommandKind.Qos:
                return await QosCommand.RunAsync(config, command, Console.Out, Console.Error);
            case CommandKind.Warmup:
                return await WarmupCommand.RunAsync(config, command, Console.Out, Console.Error, stderrIsTerminal: !Console.IsErrorRedirected);
            default:
                return await ServeCommand.RunAsync(config, command.ConfigFile, () => ConfigLoader.Load(command.ConfigFile, flagOverrides: command.Overrides));
        }
    }

    public static string VersionText =>
        typeof(Program).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
}
