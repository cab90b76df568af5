using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Server.Config;

namespace NfsGate.Server.Cli;

public enum ExportAction { List, Add, Set, Remove, Trash, Restore }

/// <summary>
/// What <c>nfsgate export</c> was asked. <see cref="Fields"/> holds the export keys to set, in the config file's JSON
/// form (a null value removes the key); the server validates them exactly as it validates the file.
/// </summary>
public sealed record ExportRequest(ExportAction Action, string? Name, string? Path, string? TrashId, IReadOnlyDictionary<string, JsonNode?> Fields);

/// <summary>
/// <c>nfsgate export list|add|set|remove|trash|restore</c>: a client of the running server's admin API
/// (<see cref="Hosting.ExportAdminApi"/>), like <c>nfsgate warmup</c>. Changes apply at once; the server writes them
/// into its config file when it has one.
/// </summary>
public static class ExportCommand
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Parses <c>export ...</c> (args[0] is "export").</summary>
    public static Command Parse(IReadOnlyList<string> args)
    {
        if (args.Count < 2) throw new UsageException("export needs an action: list, add, set, remove, trash or restore");
        var action = args[1] switch
        {
            "list" => ExportAction.List,
            "add" => ExportAction.Add,
            "set" => ExportAction.Set,
            "remove" => ExportAction.Remove,
            "trash" => ExportAction.Trash,
            "restore" => ExportAction.Restore,
            _ => throw new UsageException($"unknown export action \"{args[1]}\" (list, add, set, remove, trash or restore)"),
        };
        string? configFile = null;
        var overrides = new List<KeyValuePair<string, string>>();
        var positional = new List<string>();
        var fields = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        JsonArray? rules = null;
        JsonObject? quota = null;
        bool changes = action is ExportAction.Add or ExportAction.Set;
        for (int i = 2; i < args.Count; i++)
        {
            string flag = args[i];
            if (!flag.StartsWith("--", StringComparison.Ordinal))
            {
                if (flag is "-h") return new Command(CommandKind.Help, null, []);
                positional.Add(flag);
                continue;
            }
            if (flag == "--help") return new Command(CommandKind.Help, null, []);
            if (flag is "--ro" or "--rw" or "--open")
            {
                if (!changes || (flag != "--ro" && action != ExportAction.Set)) throw new UsageException($"{flag} is not an option of \"export {args[1]}\"");
                if (flag == "--open") fields["clients"] = null;
                else fields["readOnly"] = flag == "--ro";
                continue;
            }
            string value;
            int eq = flag.IndexOf('=');
            if (eq > 0)
            {
                value = flag[(eq + 1)..];
                flag = flag[..eq];
            }
            else
            {
                if (i + 1 >= args.Count) throw new UsageException($"{flag} needs a value");
                value = args[++i];
            }
            if (value.Length == 0) throw new UsageException($"{flag} needs a non-empty value");
            bool changeOnly = flag is "--client" or "--quota-bytes" or "--quota-inodes" or "--trash";
            if (changeOnly && !changes) throw new UsageException($"{flag} is only for \"export add\" and \"export set\"");
            switch (flag)
            {
                case "--config":
                    if (configFile is not null) throw new UsageException("--config given twice");
                    configFile = value;
                    break;
                case "--http":
                    overrides.Add(new("http", value));
                    break;
                case "--client":
                    (rules ??= []).Add(Rule(value));
                    break;
                case "--quota-bytes":
                    quota ??= [];
                    if (value == "off") quota["bytes"] = 0;
                    else if (ByteSize.TryParse(value, out long bytes)) quota["bytes"] = bytes;
                    else throw new UsageException($"--quota-bytes needs a size like 100GiB, or \"off\" (got \"{value}\")");
                    break;
                case "--quota-inodes":
                    quota ??= [];
                    if (value == "off") quota["inodes"] = 0;
                    else if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) quota["inodes"] = n;
                    else throw new UsageException($"--quota-inodes needs a whole number, or \"off\" (got \"{value}\")");
                    break;
                case "--trash":
                    if (!ConfigWalker.TryParseRetention(value, out _))
                        throw new UsageException($"--trash needs a retention like 7d, 12h, 30m, or \"off\" (got \"{value}\")");
                    fields["trash"] = value == "off" ? null : new JsonObject { ["retention"] = value };
                    break;
                default:
                    throw new UsageException($"unknown option \"{flag}\" for \"export {args[1]}\"");
            }
        }
        if (rules is not null)
        {
            if (fields.ContainsKey("clients")) throw new UsageException("give either --client rules or --open, not both");
            fields["clients"] = rules;
        }
        if (quota is not null) fields["quota"] = quota;

        int want = action switch { ExportAction.List => 0, ExportAction.Add or ExportAction.Restore => 2, _ => 1 };
        if (positional.Count != want)
        {
            string what = action switch
            {
                ExportAction.List => "no arguments",
                ExportAction.Add => "NAME PATH",
                ExportAction.Restore => "NAME ID",
                _ => "NAME",
            };
            throw new UsageException($"export {args[1]} takes {what}");
        }
        if (action == ExportAction.Set && fields.Count == 0)
            throw new UsageException("export set needs at least one of --ro, --rw, --client, --open, --quota-bytes, --quota-inodes, --trash");
        string? name = positional.Count > 0 ? positional[0] : null;
        string? path = action == ExportAction.Add ? positional[1] : null;
        string? trashId = action == ExportAction.Restore ? positional[1] : null;
        return new Command(CommandKind.Export, configFile, overrides) { ExportRequest = new ExportRequest(action, name, path, trashId, fields) };
    }

    /// <summary>MATCH[,rw|ro|none][,squash=root|all|none][,anonuid=N][,anongid=N][,secure] → a rule object of the config file.</summary>
    internal static JsonObject Rule(string text)
    {
        var parts = text.Split(',');
        var rule = new JsonObject { ["match"] = parts[0] };
        if (!Protocol.ClientRule.TryParseMatch(parts[0], out _))
            throw new UsageException($"--client: \"{parts[0]}\" is not a CIDR (no host bits set), an address or *");
        foreach (var p in parts.Skip(1))
        {
            int eq = p.IndexOf('=');
            string key = eq < 0 ? p : p[..eq], value = eq < 0 ? "" : p[(eq + 1)..];
            switch (key)
            {
                case "rw" or "ro" or "none" when eq < 0: rule["access"] = key; break;
                case "secure" when eq < 0: rule["requirePrivilegedPort"] = true; break;
                case "squash" when value is "root" or "all" or "none": rule["squash"] = value; break;
                case "anonuid" or "anongid" when uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) && id <= int.MaxValue:
                    rule[key == "anonuid" ? "anonUid" : "anonGid"] = (int)id;
                    break;
                default:
                    throw new UsageException($"--client: unknown rule part \"{p}\" (rw, ro, none, squash=root|all|none, anonuid=N, anongid=N, secure)");
            }
        }
        return rule;
    }

    public static async Task<int> RunAsync(GatewayConfig config, Command command, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        var request = command.ExportRequest!;
        using var admin = AdminClient.For(config, "export", stderr, Timeout);
        if (admin is null) return Program.ExitUsage;
        var baseUrl = admin.Root + "/admin/exports";
        string one = request.Name is null ? baseUrl : $"{baseUrl}/{Uri.EscapeDataString(request.Name)}";
        try
        {
            (bool Ok, JsonObject Body) r;
            switch (request.Action)
            {
                case ExportAction.List:
                    r = await admin.SendAsync(HttpMethod.Get, baseUrl, null, ct);
                    if (!r.Ok) return await FailAsync(stderr, r.Body);
                    foreach (var e in r.Body["exports"]!.AsArray()) await stdout.WriteLineAsync(Describe(e!.AsObject()));
                    return Program.ExitOk;
                case ExportAction.Trash:
                    r = await admin.SendAsync(HttpMethod.Get, one + "/trash", null, ct);
                    if (!r.Ok) return await FailAsync(stderr, r.Body);
                    await stdout.WriteLineAsync("ID\tDELETED\tSIZE\tTYPE\tDIR\tNAME");
                    foreach (var t in r.Body["trash"]!.AsArray())
                        await stdout.WriteLineAsync($"{t!["id"]}\t{t["deleted"]}\t{t["size"]}\t{t["type"]}\t{t["dir"]}\t{t["name"]}");
                    return Program.ExitOk;
                case ExportAction.Restore:
                    r = await admin.SendAsync(HttpMethod.Post, $"{one}/trash/{Uri.EscapeDataString(request.TrashId!)}/restore", null, ct);
                    if (!r.Ok) return await FailAsync(stderr, r.Body);
                    await stdout.WriteLineAsync($"restored as \"{r.Body["name"]}\" in directory inode {r.Body["dir"]}");
                    return Program.ExitOk;
                case ExportAction.Remove:
                    r = await admin.SendAsync(HttpMethod.Delete, one, null, ct);
                    break;
                case ExportAction.Add:
                {
                    var e = new JsonObject { ["name"] = request.Name, ["path"] = request.Path };
                    foreach (var (k, v) in request.Fields) if (v is not null) e[k] = v.DeepClone();
                    r = await admin.SendAsync(HttpMethod.Post, baseUrl, e.ToJsonString(), ct);
                    break;
                }
                default:
                {
                    // Read, change only what was given, put back: the other keys of the export stay as they are.
                    var list = await admin.SendAsync(HttpMethod.Get, baseUrl, null, ct);
                    if (!list.Ok) return await FailAsync(stderr, list.Body);
                    var cur = list.Body["exports"]!.AsArray().Select(x => x!.AsObject()).FirstOrDefault(x => (string?)x["name"] == request.Name);
                    if (cur is null) return await FailAsync(stderr, new JsonObject { ["error"] = $"no export \"{request.Name}\"" });
                    var e = (JsonObject)cur.DeepClone();
                    e.Remove("usage");
                    foreach (var (k, v) in request.Fields)
                    {
                        if (k == "quota" && v is JsonObject q && e["quota"] is JsonObject oldQ)
                        {
                            foreach (var (qk, qv) in q) oldQ[qk] = qv?.DeepClone();
                            continue;
                        }
                        if (v is null) e.Remove(k);
                        else e[k] = v.DeepClone();
                    }
                    r = await admin.SendAsync(HttpMethod.Put, one, e.ToJsonString(), ct);
                    break;
                }
            }
            if (!r.Ok) return await FailAsync(stderr, r.Body);
            bool persisted = r.Body["persisted"] is JsonValue p && p.GetValue<bool>();
            await stdout.WriteLineAsync(persisted ? "done (saved in the server's config file)" : "done (in memory only: the server has no config file)");
            return Program.ExitOk;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException)
        {
            await stderr.WriteLineAsync($"nfsgate export: cannot reach the server's admin API at {baseUrl}: {e.Message}");
            return Program.ExitFailure;
        }
    }

    static string Describe(JsonObject e)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{e["name"]}\t{e["path"]}\t{((bool?)e["readOnly"] == true ? "ro" : "rw")}");
        if (e["clients"] is JsonArray rules)
            sb.Append("\tclients: ").Append(rules.Count == 0 ? "(none: nobody)" : string.Join(" ", rules.Select(x =>
                $"{x!["match"]},{x["access"]},squash={x["squash"]}{((bool?)x["requirePrivilegedPort"] == true ? ",secure" : "")}")));
        else sb.Append("\tclients: (open to all, no squash)");
        var use = e["usage"];
        sb.Append(CultureInfo.InvariantCulture, $"\tused {use?["bytes"]} bytes / {use?["inodes"]} inodes");
        if (e["quota"] is JsonObject q) sb.Append(CultureInfo.InvariantCulture, $"\tquota {q["bytes"]} bytes / {q["inodes"]} inodes");
        if (e["trash"] is JsonObject t) sb.Append(CultureInfo.InvariantCulture, $"\ttrash {t["retention"]}");
        return sb.ToString();
    }

    static async Task<int> FailAsync(TextWriter stderr, JsonObject body)
    {
        await stderr.WriteLineAsync($"nfsgate export: {AdminClient.ErrorOf(body)}");
        return Program.ExitFailure;
    }
}
