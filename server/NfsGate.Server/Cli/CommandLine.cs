namespace NfsGate.Server.Cli;

public enum CommandKind { Serve, CheckConfig, Fsck, Gc, Warmup, Status, Qos, Export, Version, Help }

/// <summary>A parsed command line. <see cref="Overrides"/> are config key paths set by flags (they win over file and environment).</summary>
public sealed record Command(CommandKind Kind, string? ConfigFile, IReadOnlyList<KeyValuePair<string, string>> Overrides)
{
    /// <summary>fsck --metadata-only: no object store requests.</summary>
    public bool MetadataOnly { get; init; }
    /// <summary>gc --delete: delete the leaked objects (the default is a dry run).</summary>
    public bool Delete { get; init; }
    /// <summary>gc --max-slice-id N: only slice ids ≤ N may count as leaked.</summary>
    public ulong? MaxSliceId { get; init; }
    /// <summary>warmup --export NAME.</summary>
    public string? Export { get; init; }
    /// <summary>warmup: fetch (default), --check or --evict.</summary>
    public Hosting.WarmupMode WarmupMode { get; init; }
    /// <summary>warmup: the paths inside the export.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];
    /// <summary>qos show|set|reset: what was asked (QosCommand.cs).</summary>
    public QosRequest? Qos { get; init; }
    /// <summary>export list|add|set|remove|trash|restore: what was asked (ExportCommand.cs).</summary>
    public ExportRequest? ExportRequest { get; init; }
}

public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Hand-written parsing of the small command tree (System.CommandLine is not among the project's packages).
/// Accepts "--flag value" and "--flag=value"; anything unknown is a usage error (exit 2).
/// </summary>
public static class CommandLine
{
    public const string Usage = """
        usage:
          nfsgate serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]
                                    run the NFSv3 gateway until SIGINT/SIGTERM
          nfsgate check-config [--config FILE] [--listen HOST:PORT] [--data-dir DIR]
                                    validate the configuration and print the effective one
          nfsgate fsck [--config FILE] [--data-dir DIR] [--metadata-only]
                                    check metadata consistency and that every referenced block object
                                    exists with the right length; exit 1 if anything is wrong
          nfsgate gc [--config FILE] [--data-dir DIR] [--delete] [--max-slice-id N]
                                    list block objects no file references (dry run); --delete removes them.
                                    --max-slice-id: only consider slices up to the counter a previous run printed
          fsck and gc open the metadata store themselves: stop the server first.
          nfsgate warmup --export NAME [--check | --evict] [--http HOST:PORT | --config FILE] PATH...
                                    ask the running server to fetch the files under PATH (relative to the
                                    export root, / = all) into the block cache; --check reports how much is
                                    cached, --evict drops them from it. Uses the admin API on the HTTP
                                    listener (--http, else "http" of the configuration)
          nfsgate status [--config FILE] [--data-dir DIR]
                                    list the gateways sharing the metadata engine (heartbeats): live or
                                    dead, last seen; exit 1 if none is live
          nfsgate qos show [--export NAME] [--http HOST:PORT | --config FILE]
                                    print each export's caps, where they come from and throttling counters
          nfsgate qos set --export NAME [--client CIDR] [--read RATE] [--write RATE] [--iops N] [--burst DURATION]
                          [--max-delay DURATION] [--http HOST:PORT | --config FILE]
                                    change caps at runtime (at once, kept across restarts); RATE like 200MiB/s,
                                    "off" removes a cap; --client applies them to each address in CIDR
          nfsgate qos reset --export NAME [--http HOST:PORT | --config FILE]
                                    drop the runtime caps: the config's exports[].qos applies again
          nfsgate export list [--http HOST:PORT | --config FILE]
                                    the exports with their client rules, quota, use and trash retention
          nfsgate export add NAME PATH [--ro] [--client RULE]... [--quota-bytes SIZE] [--quota-inodes N]
                             [--trash RETENTION] [--http HOST:PORT | --config FILE]
          nfsgate export set NAME [--ro | --rw] [--client RULE]... [--open] [--quota-bytes SIZE|off]
                             [--quota-inodes N|off] [--trash RETENTION|off] [--http HOST:PORT | --config FILE]
                                    add or change an export at runtime (clients keep their mounts while still allowed).
                                    RULE: MATCH[,rw|ro|none][,squash=root|all|none][,anonuid=N][,anongid=N][,secure]
                                    with MATCH a CIDR, an address or *; the --client rules replace all rules, in
                                    order; --open removes them (every client read-write, no squash)
          nfsgate export remove NAME [--http HOST:PORT | --config FILE]
                                    unpublish an export (its files stay; adding it back brings them back)
          nfsgate export trash NAME [--http ...]      list removed files waiting in the export's trash
          nfsgate export restore NAME ID [--http ...] put trash entry ID back where it was
          nfsgate version           print the version
          nfsgate help              print this text

        Configuration: a JSON file (comments and trailing commas allowed), overridden by environment
        variables NFSGATE_<KEY> (nested keys with a double underscore: NFSGATE_CACHE__SIZE=10GiB),
        overridden by the flags above. See README.md for every key.

        exit codes: 0 success, 1 runtime failure (fsck/gc: problems or leaked objects found),
                    2 usage or configuration error
        """;

    public static Command Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
            throw new UsageException("no command given");
        if (args[0] == "qos") return QosCommand.Parse(args);
        if (args[0] == "export") return ExportCommand.Parse(args);
        CommandKind kind = args[0] switch
        {
            "serve" => CommandKind.Serve,
            "check-config" => CommandKind.CheckConfig,
            "fsck" => CommandKind.Fsck,
            "gc" => CommandKind.Gc,
            "warmup" => CommandKind.Warmup,
            "status" => CommandKind.Status,
            "version" or "--version" => CommandKind.Version,
            "help" or "--help" or "-h" => CommandKind.Help,
            _ => throw new UsageException($"unknown command \"{args[0]}\""),
        };
        string? configFile = null;
        var overrides = new List<KeyValuePair<string, string>>();
        bool takesFlags = kind is not (CommandKind.Version or CommandKind.Help);
        bool metadataOnly = false, delete = false;
        ulong? maxSliceId = null;
        string? export = null;
        var warmupMode = Hosting.WarmupMode.Fetch;
        var paths = new List<string>();
        for (int i = 1; i < args.Count; i++)
        {
            string arg = args[i];
            if (!takesFlags)
                throw new UsageException($"\"{args[0]}\" takes no arguments (got \"{arg}\")");
            if (arg is "--help" or "-h")
                return new Command(CommandKind.Help, null, []);
            if (kind is CommandKind.Warmup && !arg.StartsWith('-'))
            {
                paths.Add(arg);
                continue;
            }
            string flag = arg;
            string? value = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                flag = arg[..eq];
                value = arg[(eq + 1)..];
            }
            bool known = flag is "--config"
                || (flag is "--data-dir" && kind is not CommandKind.Warmup)
                || (flag is "--export" or "--check" or "--evict" or "--http" && kind is CommandKind.Warmup)
                || (flag is "--listen" && kind is CommandKind.Serve or CommandKind.CheckConfig)
                || (flag is "--metadata-only" && kind is CommandKind.Fsck)
                || (flag is "--delete" or "--max-slice-id" && kind is CommandKind.Gc);
            if (!known)
                throw new UsageException($"unknown option \"{arg}\" for \"{args[0]}\"");
            if (flag is "--metadata-only" or "--delete")
            {
                if (value is not null)
                    throw new UsageException($"{flag} takes no value");
                if (flag == "--delete") delete = true;
                else metadataOnly = true;
                continue;
            }
            if (flag is "--check" or "--evict")
            {
                if (value is not null)
                    throw new UsageException($"{flag} takes no value");
                if (warmupMode != Hosting.WarmupMode.Fetch)
                    throw new UsageException("give at most one of --check and --evict");
                warmupMode = flag == "--check" ? Hosting.WarmupMode.Check : Hosting.WarmupMode.Evict;
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                    throw new UsageException($"{flag} needs a value");
                value = args[++i];
            }
            if (value.Length == 0)
                throw new UsageException($"{flag} needs a non-empty value");
            switch (flag)
            {
                case "--config":
                    if (configFile is not null)
                        throw new UsageException("--config given twice");
                    configFile = value;
                    break;
                case "--listen":
                    overrides.Add(new("listen", value));
                    break;
                case "--data-dir":
                    overrides.Add(new("dataDir", value));
                    break;
                case "--http":
                    overrides.Add(new("http", value));
                    break;
                case "--export":
                    if (export is not null)
                        throw new UsageException("--export given twice");
                    export = value;
                    break;
                case "--max-slice-id":
                    if (!ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong max))
                        throw new UsageException($"--max-slice-id needs a non-negative integer (got \"{value}\")");
                    maxSliceId = max;
                    break;
            }
        }
        if (kind is CommandKind.Warmup)
        {
            if (export is null)
                throw new UsageException("warmup needs --export NAME");
            if (paths.Count == 0)
                throw new UsageException("warmup needs at least one PATH (/ = the whole export)");
            foreach (var p in paths)
                if (!p.StartsWith('/'))
                    throw new UsageException($"warmup paths are relative to the export root and start with / (got \"{p}\")");
        }
        return new Command(kind, configFile, overrides)
        {
            MetadataOnly = metadataOnly, Delete = delete, MaxSliceId = maxSliceId, Export = export, WarmupMode = warmupMode, Paths = paths,
        };
    }
}
