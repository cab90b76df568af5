using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NfsGate.Server.Config;

/// <summary>
/// "proxyProtocol": { "trustedSources": ["10.0.5.0/28", ...] }: the load balancers (HAProxy with send-proxy-v2) whose
/// connections to the NFS port start with a PROXY header naming the real client. Only those peers are asked for one:
/// listing a client network here would let its hosts claim any address, so keep it to the balancers.
/// </summary>
public sealed record ProxyProtocolConfig(IReadOnlyList<IPNetwork> TrustedSources)
{
    /// <summary>No trusted balancer: every peer is the client itself.</summary>
    public static readonly ProxyProtocolConfig Off = new([]);
}

internal sealed partial class ConfigWalker
{
    // A property, not a field: AllKeyNames (in ConfigWalker.cs) is built from it; see ConfigWalker.Exports.cs.
    static string[] ProxyProtocolKeys => ["trustedSources"];

    /// <summary>Each connection is checked against every entry; a handful of balancer subnets is the real use.</summary>
    const int MaxTrustedSources = 64;

    ProxyProtocolConfig ProxyProtocol(JsonObject root)
    {
        const string at = "proxyProtocol";
        var node = OptionalObject(root, at, "");
        if (node is null)
            return ProxyProtocolConfig.Off;
        CheckKeys(node, at, ProxyProtocolKeys);
        const string key = "proxyProtocol.trustedSources";
        if (!node.TryGetPropertyValue("trustedSources", out var list) || list is null)
            return ProxyProtocolConfig.Off;

        // From the environment a plain string is also taken, comma-separated:
        // NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES=10.0.5.0/28,10.0.6.7
        List<(JsonNode Node, string Text)> items = [];
        if (list is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                    throw Error(item ?? list, key, $"expected CIDR strings like \"10.0.5.0/28\", got {(item is null ? "null" : Describe(item))}");
                items.Add((item, v.GetValue<string>()));
            }
        }
        else if (list is JsonValue sv && sv.GetValueKind() == JsonValueKind.String && origins.ContainsKey(list))
        {
            foreach (string part in sv.GetValue<string>().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                items.Add((list, part));
        }
        else
            throw Error(list, key, $"expected a list of CIDRs like [\"10.0.5.0/28\"], got {Describe(list)}");

        if (items.Count > MaxTrustedSources)
            throw Error(list, key, $"at most {MaxTrustedSources} entries");
        var nets = new List<IPNetwork>(items.Count);
        foreach (var (itemNode, text) in items)
        {
            if (!TryParseTrustedSource(text, out var net))
                throw Error(itemNode, key, $"expected an IPv4/IPv6 CIDR with no host bits set (\"10.0.5.0/28\") or an address, got \"{text}\"");
            nets.Add(net);
        }
        return new ProxyProtocolConfig(nets);
    }

    /// <summary>
    /// "10.0.5.0/28" (no host bits set: "10.0.5.1/28" is more likely a typo than a wish) or a single address.
    /// Unlike a client rule, "*" and /0 are refused: trusting every peer lets any client pick its own address.
    /// </summary>
    internal static bool TryParseTrustedSource(string text, out IPNetwork net)
    {
        net = default;
        int slash = text.IndexOf('/');
        if (slash < 0)
        {
            if (!IPAddress.TryParse(text, out var ip)) return false;
            net = new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        if (!IPNetwork.TryParse(text, out var parsed) || !IPAddress.TryParse(text.AsSpan(0, slash), out var baseAddress)
            || !parsed.BaseAddress.Equals(baseAddress) || parsed.PrefixLength == 0)
            return false;
        net = parsed;
        return true;
    }
}
