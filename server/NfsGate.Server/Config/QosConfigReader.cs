using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Protocol.Qos;

namespace NfsGate.Server.Config;

/// <summary>
/// Reads and writes <c>exports[].qos</c>, the same JSON object the admin API's PUT /admin/qos/NAME takes and the
/// runtime state file stores:
/// <c>{ "read": "200MiB/s", "write": "100MiB/s", "iops": 5000, "burst": "2s", "maxDelay": "2s",
/// "clients": [{ "match": "10.1.2.0/24", "read": "50MiB/s" }] }</c>. Every key may be absent (no cap). Strict like the
/// rest of the config: an unknown key or a bad value is an error naming the key.
/// </summary>
public static class QosConfigReader
{
    static readonly string[] RateKeys = ["read", "write", "iops", "burst"];
    static readonly string[] PolicyKeys = [.. RateKeys, "maxDelay", "clients"];
    static readonly string[] ClientKeys = ["match", .. RateKeys];

    /// <summary>Every key name, for matching environment overrides' spelling.</summary>
    public static IReadOnlyList<string> KeyNames { get; } = PolicyKeys.Concat(ClientKeys).Distinct().ToArray();

    /// <summary>Operations per second: far above what one gateway serves, so any larger number is a typo.</summary>
    const long MaxIops = 100_000_000;
    /// <summary>A burst longer than this is no cap at all for a day's job.</summary>
    static readonly TimeSpan MaxBurst = TimeSpan.FromMinutes(10);
    /// <summary>Half the Linux client's default major timeout on TCP (timeo=600 deciseconds): a longer hold would make it retransmit.</summary>
    static readonly TimeSpan MaxMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>The policy of export object <paramref name="export"/> at <paramref name="at"/> (e.g. "exports[0]"); null when it has no "qos".</summary>
    internal static QosPolicy? ReadExport(JsonObject export, string at, IReadOnlyDictionary<JsonNode, string> origins) =>
        export.TryGetPropertyValue("qos", out var node) && node is not null ? Parse(node, at + ".qos", origins) : null;

    /// <summary>Parses a qos object; <paramref name="at"/> is its key path for messages.</summary>
    public static QosPolicy Parse(JsonNode node, string at, IReadOnlyDictionary<JsonNode, string>? origins = null)
    {
        origins ??= new Dictionary<JsonNode, string>();
        var obj = node as JsonObject ?? throw Error(node, at, $"expected an object like {{ \"read\": \"200MiB/s\" }}, got {Kind(node)}", origins);
        CheckKeys(obj, at, PolicyKeys, origins);
        var rates = Rates(obj, at, origins);
        var clients = new List<QosClientRule>();
        if (obj.TryGetPropertyValue("clients", out var clientsNode) && clientsNode is not null)
        {
            if (clientsNode is not JsonArray array)
                throw Error(clientsNode, at + ".clients", $"expected a list of {{ \"match\": CIDR, ... }}, got {Kind(clientsNode)}", origins);
            if (array.Count > QosPolicy.MaxClientRules)
                throw Error(array, at + ".clients", $"at most {QosPolicy.MaxClientRules} rules", origins);
            for (int i = 0; i < array.Count; i++)
            {
                string cat = $"{at}.clients[{i}]";
                if (array[i] is not JsonObject c)
                    throw Error(array[i], cat, "expected an object with match and caps", origins);
                CheckKeys(c, cat, ClientKeys, origins);
                string match = String(c, "match", cat, origins) ?? throw Error(c, cat + ".match", "missing", origins);
                if (!QosClientRule.IsValidMatch(match))
                    throw Error(c["match"], cat + ".match", $"expected a CIDR like \"10.1.2.0/24\", an address or \"*\", got \"{match}\"", origins);
                clients.Add(new QosClientRule(match, Rates(c, cat, origins)));
            }
        }
        TimeSpan? maxDelay = Duration(obj, "maxDelay", at, MaxMaxDelay, origins);
        return new QosPolicy { Export = rates, Clients = clients, MaxDelay = maxDelay };
    }

    static QosRates Rates(JsonObject obj, string at, IReadOnlyDictionary<JsonNode, string> origins) => new(
        ReadBytesPerSecond: Rate(obj, "read", at, origins),
        WriteBytesPerSecond: Rate(obj, "write", at, origins),
        OpsPerSecond: Iops(obj, at, origins),
        Burst: Duration(obj, "burst", at, MaxBurst, origins));

    /// <summary>"200MiB/s", "1.5GiB/s", "4096/s", or a number of bytes per second; at least 1.</summary>
    public static bool TryParseRate(string text, out long bytesPerSecond)
    {
        bytesPerSecond = 0;
        string s = text.Trim();
        if (!s.EndsWith("/s", StringComparison.Ordinal)) return false;
        return ByteSize.TryParse(s[..^2], out bytesPerSecond) && bytesPerSecond > 0;
    }

    public static string FormatRate(long bytesPerSecond) => ByteSize.Format(bytesPerSecond) + "/s";

    static long? Rate(JsonObject obj, string key, string at, IReadOnlyDictionary<JsonNode, string> origins)
    {
        if (!obj.TryGetPropertyValue(key, out var node) || node is null) return null;
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long n) && n > 0) return n;
            if (v.GetValueKind() == JsonValueKind.String && TryParseRate(v.GetValue<string>(), out long r)) return r;
        }
        throw Error(node, $"{at}.{key}", $"expected a rate like \"200MiB/s\" or \"1.5GiB/s\" (binary units, above zero), got {Describe(node)}", origins);
    }

    static long? Iops(JsonObject obj, string at, IReadOnlyDictionary<JsonNode, string> origins)
    {
        if (!obj.TryGetPropertyValue("iops", out var node) || node is null) return null;
        if (node is JsonValue v)
        {
            long n = 0;
            bool ok = v.GetValueKind() == JsonValueKind.Number ? v.TryGetValue(out n)
                // From the environment every value is a string.
                : v.GetValueKind() == JsonValueKind.String && origins.ContainsKey(node)
                  && long.TryParse(v.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out n);
            if (ok && n >= 1 && n <= MaxIops) return n;
        }
        throw Error(node, at + ".iops", $"expected a whole number of operations per second from 1 to {MaxIops}, got {Describe(node)}", origins);
    }

    static TimeSpan? Duration(JsonObject obj, string key, string at, TimeSpan max, IReadOnlyDictionary<JsonNode, string> origins)
    {
        if (!obj.TryGetPropertyValue(key, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            && Config.Duration.TryParse(v.GetValue<string>(), out var d) && d > TimeSpan.Zero && d <= max)
            return d;
        throw Error(node, $"{at}.{key}", $"expected a duration like \"2s\" or \"500ms\", above zero and at most {Config.Duration.Format(max)}, got {Describe(node)}", origins);
    }

    static string? String(JsonObject obj, string key, string at, IReadOnlyDictionary<JsonNode, string> origins)
    {
        if (!obj.TryGetPropertyValue(key, out var node) || node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw Error(node, $"{at}.{key}", $"expected a string, got {Kind(node)}", origins);
    }

    /// <summary>The JSON form <see cref="Parse"/> reads back (absent caps are left out).</summary>
    public static JsonObject ToJson(QosPolicy p)
    {
        var o = RatesJson(p.Export, new JsonObject());
        if (p.MaxDelay is { } d) o["maxDelay"] = Config.Duration.Format(d);
        if (p.Clients.Count > 0)
        {
            var list = new JsonArray();
            foreach (var c in p.Clients)
                list.Add(RatesJson(c.Rates, new JsonObject { ["match"] = c.Match }));
            o["clients"] = list;
        }
        return o;
    }

    static JsonObject RatesJson(QosRates r, JsonObject o)
    {
        if (r.ReadBytesPerSecond is { } read) o["read"] = FormatRate(read);
        if (r.WriteBytesPerSecond is { } write) o["write"] = FormatRate(write);
        if (r.OpsPerSecond is { } iops) o["iops"] = iops;
        if (r.Burst is { } burst) o["burst"] = Config.Duration.Format(burst);
        return o;
    }

    static void CheckKeys(JsonObject obj, string at, string[] known, IReadOnlyDictionary<JsonNode, string> origins)
    {
        foreach (var kv in obj)
            if (!known.Contains(kv.Key, StringComparer.Ordinal))
                throw Error(kv.Value, $"{at}.{kv.Key}", $"unknown key (known: {string.Join(", ", known)})", origins);
    }

    static string Kind(JsonNode? node) => node switch
    {
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
        _ => "null",
    };

    static string Describe(JsonNode node) => node is JsonValue ? node.ToJsonString() : Kind(node);

    static ConfigException Error(JsonNode? node, string keyPath, string problem, IReadOnlyDictionary<JsonNode, string> origins)
    {
        if (node is not null && origins.TryGetValue(node, out var origin))
            problem += $" (from {origin})";
        return new ConfigException(keyPath, problem);
    }
}
