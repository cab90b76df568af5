using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Server.Config;

namespace NfsGate.Server.Cli;

public enum QosAction { Show, Set, Reset }

/// <summary>
/// What <c>nfsgate qos</c> was asked. In <see cref="Changes"/> a null value means "remove this cap" ("off" on the
/// command line); keys are the qos JSON keys (read, write, iops, burst, maxDelay).
/// </summary>
public sealed record QosRequest(QosAction Action, string? Export, string? Client, IReadOnlyDictionary<string, string?> Changes);

/// <summary>
/// <c>nfsgate qos show|set|reset</c>: a client of the running server's admin API (<see cref="Hosting.QosAdminApi"/>), like
/// <c>nfsgate warmup</c>. <c>set</c> reads the export's policy, changes only the caps given, and puts it back; the
/// server applies it at once and keeps it across restarts.
/// </summary>
public static class QosCommand
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Parses <c>qos ...</c> (args[0] is "qos").</summary>
    public static Command Parse(IReadOnlyList<string> args)
    {
        if (args.Count < 2) throw new UsageException("qos needs an action: show, set or reset");
        var action = args[1] switch
        {
            "show" => QosAction.Show,
            "set" => QosAction.Set,
            "reset" => QosAction.Reset,
            _ => throw new UsageException($"unknown qos action \"{args[1]}\" (show, set or reset)"),
        };
        string? configFile = null, export = null, client = null;
        var overrides = new List<KeyValuePair<string, string>>();
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 2; i < args.Count; i++)
        {
            string flag = args[i], value;
            int eq = flag.IndexOf('=');
            if (flag.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                value = flag[(eq + 1)..];
                flag = flag[..eq];
            }
            else
            {
                if (flag is "--help" or "-h") return new Command(CommandKind.Help, null, []);
                if (i + 1 >= args.Count) throw new UsageException($"{flag} needs a value");
                value = args[++i];
            }
            if (value.Length == 0) throw new UsageException($"{flag} needs a non-empty value");
            bool setOnly = flag is "--client" or "--read" or "--write" or "--iops" or "--burst" or "--max-delay";
            if (setOnly && action != QosAction.Set) throw new UsageException($"{flag} is only for \"qos set\"");
            switch (flag)
            {
                case "--config":
                    if (configFile is not null) throw new UsageException("--config given twice");
                    configFile = value;
                    break;
                case "--http":
                    overrides.Add(new("http", value));
                    break;
                case "--export":
                    if (export is not null) throw new UsageException("--export given twice");
                    export = value;
                    break;
                case "--client":
                    if (client is not null) throw new UsageException("--client given twice");
                    if (!Protocol.Qos.QosClientRule.IsValidMatch(value))
                        throw new UsageException($"--client needs a CIDR like 10.1.2.0/24, an address or * (got \"{value}\")");
                    client = value;
                    break;
                case "--read" or "--write":
                    changes[flag[2..]] = value == "off" ? null : Rate(flag, value);
                    break;
                case "--iops":
                    if (value != "off" && !(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n >= 1))
                        throw new UsageException($"--iops needs a whole number above zero or \"off\" (got \"{value}\")");
                    changes["iops"] = value == "off" ? null : value;
                    break;
                case "--burst" or "--max-delay":
                    if (value != "off" && !(Duration.TryParse(value, out var d) && d > TimeSpan.Zero))
                        throw new UsageException($"{flag} needs a duration like 2s or 500ms, or \"off\" (got \"{value}\")");
                    changes[flag == "--burst" ? "burst" : "maxDelay"] = value == "off" ? null : value;
                    break;
                default:
                    throw new UsageException($"unknown option \"{flag}\" for \"qos {args[1]}\"");
            }
        }
        if (action != QosAction.Show && export is null) throw new UsageException($"qos {args[1]} needs --export NAME");
        if (action == QosAction.Set && changes.Count == 0)
            throw new UsageException("qos set needs at least one of --read, --write, --iops, --burst, --max-delay");
        if (client is not null && changes.ContainsKey("maxDelay"))
            throw new UsageException("--max-delay is per export, not per client");
        return new Command(CommandKind.Qos, configFile, overrides) { Qos = new QosRequest(action, export, client, changes) };
    }

    /// <summary>"200MiB/s" or "200MiB" (the /s is implied on the command line), checked here so a typo fails before any request.</summary>
    static string Rate(string flag, string value)
    {
        string text = value.EndsWith("/s", StringComparison.Ordinal) ? value : value + "/s";
        if (!QosConfigReader.TryParseRate(text, out _))
            throw new UsageException($"{flag} needs a rate like 200MiB/s or 1.5GiB/s, or \"off\" (got \"{value}\")");
        return text;
    }

    public static async Task<int> RunAsync(GatewayConfig config, Command command, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        var request = command.Qos!;
        using var admin = AdminClient.For(config, "qos", stderr, Timeout);
        if (admin is null) return Program.ExitUsage;
        var baseUrl = admin.Root + "/admin/qos";
        try
        {
            switch (request.Action)
            {
                case QosAction.Show:
                {
                    var (ok, body) = await admin.SendAsync(HttpMethod.Get, request.Export is null ? baseUrl : $"{baseUrl}/{Uri.EscapeDataString(request.Export)}", null, ct);
                    if (!ok) return await FailAsync(stderr, body);
                    var views = body["exports"] is JsonArray all ? all.Select(v => v!).ToList() : [body];
                    foreach (var v in views) await stdout.WriteLineAsync(Describe(v));
                    return Program.ExitOk;
                }
                case QosAction.Reset:
                {
                    var (ok, body) = await admin.SendAsync(HttpMethod.Delete, $"{baseUrl}/{Uri.EscapeDataString(request.Export!)}", null, ct);
                    if (!ok) return await FailAsync(stderr, body);
                    await stdout.WriteLineAsync(Describe(body));
                    return Program.ExitOk;
                }
                default:
                {
                    string url = $"{baseUrl}/{Uri.EscapeDataString(request.Export!)}";
                    var (ok, current) = await admin.SendAsync(HttpMethod.Get, url, null, ct);
                    if (!ok) return await FailAsync(stderr, current);
                    var qos = current["qos"] as JsonObject ?? new JsonObject();
                    var next = Apply(qos.DeepClone().AsObject(), request);
                    var (putOk, body) = await admin.SendAsync(HttpMethod.Put, url, next.ToJsonString(), ct);
                    if (!putOk) return await FailAsync(stderr, body);
                    await stdout.WriteLineAsync(Describe(body));
                    return Program.ExitOk;
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException)
        {
            await stderr.WriteLineAsync($"nfsgate qos: cannot talk to the server at {baseUrl}: {e.Message}");
            return Program.ExitFailure;
        }
    }

    /// <summary>The qos object with <paramref name="request"/>'s changes made at the export level or in the client rule.</summary>
    internal static JsonObject Apply(JsonObject qos, QosRequest request)
    {
        JsonObject target = qos;
        if (request.Client is { } match)
        {
            var clients = qos["clients"] as JsonArray ?? new JsonArray();
            qos["clients"] = clients;
            target = clients.OfType<JsonObject>().FirstOrDefault(c => c["match"]?.GetValue<string>() == match)
                ?? AddRule(clients, match);
        }
        foreach (var (key, value) in request.Changes)
        {
            if (value is null) target.Remove(key);
            else target[key] = key == "iops" ? JsonValue.Create(long.Parse(value, CultureInfo.InvariantCulture)) : JsonValue.Create(value);
        }
        // A rule left with only its match caps nothing: drop it, and an empty list with it.
        if (request.Client is not null && qos["clients"] is JsonArray list)
        {
            foreach (var rule in list.OfType<JsonObject>().Where(r => r.Count == 1).ToList()) list.Remove(rule);
            if (list.Count == 0) qos.Remove("clients");
        }
        return qos;
    }

    static JsonObject AddRule(JsonArray clients, string match)
    {
        var rule = new JsonObject { ["match"] = match };
        clients.Add(rule);
        return rule;
    }

    static async Task<int> FailAsync(TextWriter stderr, JsonObject body)
    {
        await stderr.WriteLineAsync($"nfsgate qos: {AdminClient.ErrorOf(body)}");
        return Program.ExitFailure;
    }

    /// <summary>One export as lines: "team-a (runtime): read 200MiB/s, write off, ..." then its client rules and counters.</summary>
    internal static string Describe(JsonNode view)
    {
        var qos = view["qos"] as JsonObject ?? new JsonObject();
        var stats = view["stats"] as JsonObject ?? new JsonObject();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{view["export"]} ({view["source"]}): {Caps(qos, "1s (default)")}");
        sb.Append(CultureInfo.InvariantCulture, $", maxDelay {qos["maxDelay"]?.ToString() ?? "2s (default)"}");
        if (qos["clients"] is JsonArray clients)
            foreach (var c in clients.OfType<JsonObject>())
                sb.Append(CultureInfo.InvariantCulture, $"\n  client {c["match"]} (each address): {Caps(c, "the export's")}");
        sb.Append(CultureInfo.InvariantCulture,
            $"\n  admitted {stats["admitted"]}, delayed {stats["delayed"]} ({stats["delayedSeconds"]} s in all), refused with JUKEBOX {stats["rejected"]}, waiting now {stats["waiting"]}");
        return sb.ToString();
    }

    static string Caps(JsonObject o, string defaultBurst) =>
        $"read {o["read"]?.ToString() ?? "off"}, write {o["write"]?.ToString() ?? "off"}, iops {o["iops"]?.ToString() ?? "off"}, burst {o["burst"]?.ToString() ?? defaultBurst}";
}
