using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Metadata;
using NfsGate.Protocol;

namespace NfsGate.Server.Config;

/// <summary>The isolation keys of an export: client rules, quota and trash; and the storage class of its objects.</summary>
internal sealed partial class ConfigWalker
{
    // Properties, not fields: ExportKeys (in ConfigWalker.cs) is built from these, and static field initializers of
    // a partial class run in an unspecified order across files.
    static string[] ExportIsolationKeys => ["clients", "quota", "trash", "storageClass"];
    static string[] ClientRuleKeys => ["match", "access", "squash", "anonUid", "anonGid", "requirePrivilegedPort"];
    static string[] QuotaKeys => ["bytes", "inodes"];
    static string[] TrashKeys => ["retention"];
    /// <summary>Keys inside an export's objects, so NFSGATE_EXPORTS__0__QUOTA__BYTES finds its spelling.</summary>
    static string[] ExportNestedKeys => [.. ClientRuleKeys, .. QuotaKeys, .. TrashKeys];

    /// <summary>Rules are checked in order on every call; a few hundred is already far more than anyone can review.</summary>
    const int MaxClientRules = 256;
    /// <summary>Longest trash retention: a year keeps the number finite and is beyond any sensible policy.</summary>
    static readonly TimeSpan MaxTrashRetention = TimeSpan.FromDays(366);

    ExportConfig ExportIsolation(JsonObject export, string at, ExportConfig config)
    {
        IReadOnlyList<ClientRule>? clients = null;
        if (export.TryGetPropertyValue("clients", out var node) && node is not null)
        {
            if (node is not JsonArray array)
                throw Error(node, $"{at}.clients", "expected a list of rules like {\"match\": \"10.1.0.0/16\", \"access\": \"rw\"}");
            if (array.Count > MaxClientRules)
                throw Error(node, $"{at}.clients", $"at most {MaxClientRules} rules");
            var rules = new List<ClientRule>();
            for (int i = 0; i < array.Count; i++)
                rules.Add(Rule(array[i], $"{at}.clients[{i}]"));
            clients = rules;
        }

        var quota = VolumeQuota.None;
        if (OptionalObject(export, "quota", at) is { } q)
        {
            CheckKeys(q, $"{at}.quota", QuotaKeys);
            quota = new VolumeQuota((ulong)(OptionalSize(q, "bytes", $"{at}.quota") ?? 0), (ulong)(OptionalInt(q, "inodes", $"{at}.quota", 0, int.MaxValue) ?? 0));
        }

        var retention = TimeSpan.Zero;
        if (OptionalObject(export, "trash", at) is { } t)
        {
            CheckKeys(t, $"{at}.trash", TrashKeys);
            string? text = OptionalString(t, "retention", $"{at}.trash");
            if (text is not null && !TryParseRetention(text, out retention))
                throw Error(t["retention"], $"{at}.trash.retention", $"expected a duration like \"7d\", \"12h\" or \"30m\" (at most {MaxTrashRetention.TotalDays:0} days), or \"off\"");
        }
        return config with { Clients = clients, Quota = quota, TrashRetention = retention, StorageClass = StorageClass(export, at) };
    }

    /// <summary>exports[].storageClass: one of the S3 classes that serve reads without a restore, or absent.</summary>
    string? StorageClass(JsonObject export, string at)
    {
        string? storageClass = OptionalString(export, "storageClass", at);
        if (storageClass is null || NfsGate.Data.ObjectPutOptions.StorageClasses.Contains(storageClass)) return storageClass;
        string why = storageClass is "GLACIER" or "DEEP_ARCHIVE"
            ? $"{storageClass} objects cannot be read without a restore; use GLACIER_IR for cold data"
            : $"expected one of {string.Join(", ", NfsGate.Data.ObjectPutOptions.StorageClasses.Select(c => $"\"{c}\""))}";
        throw Error(export["storageClass"], $"{at}.storageClass", why);
    }

    ClientRule Rule(JsonNode? node, string at)
    {
        if (node is not JsonObject rule)
            throw Error(node, at, "expected an object with match, access and squash");
        CheckKeys(rule, at, ClientRuleKeys);
        string match = RequiredString(rule, "match", at);
        if (!ClientRule.TryParseMatch(match, out _))
            throw Error(rule["match"], $"{at}.match", "expected an IPv4/IPv6 CIDR with no host bits set (\"10.1.0.0/16\"), an address, or \"*\"");
        var access = OptionalString(rule, "access", at) switch
        {
            null or "rw" => ExportAccess.ReadWrite,
            "ro" => ExportAccess.ReadOnly,
            "none" => ExportAccess.None,
            _ => throw Error(rule["access"], $"{at}.access", "expected \"rw\", \"ro\" or \"none\""),
        };
        var squash = OptionalString(rule, "squash", at) switch
        {
            null or "root" => SquashMode.Root,
            "all" => SquashMode.All,
            "none" => SquashMode.None,
            _ => throw Error(rule["squash"], $"{at}.squash", "expected \"root\", \"all\" or \"none\""),
        };
        return new ClientRule
        {
            Match = match,
            Access = access,
            Squash = squash,
            AnonUid = (uint)(OptionalInt(rule, "anonUid", at, 0, int.MaxValue) ?? (int)ClientRule.DefaultAnonId),
            AnonGid = (uint)(OptionalInt(rule, "anonGid", at, 0, int.MaxValue) ?? (int)ClientRule.DefaultAnonId),
            RequirePrivilegedPort = OptionalBool(rule, "requirePrivilegedPort", at) ?? false,
        };
    }

    /// <summary>"7d", "12h", "30m", "90s" (one number, one unit) or "off".</summary>
    internal static bool TryParseRetention(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text == "off") return true;
        if (text.Length < 2 || text.Length > 16) return false;
        double unit = text[^1] switch { 'd' => 86400, 'h' => 3600, 'm' => 60, 's' => 1, _ => 0 };
        if (unit == 0 || !double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || n <= 0)
            return false;
        value = TimeSpan.FromSeconds(n * unit);
        return value <= MaxTrashRetention;
    }

    internal static string FormatRetention(TimeSpan t) =>
        t == TimeSpan.Zero ? "off"
        : t.TotalSeconds % 86400 == 0 ? $"{t.TotalDays:0}d"
        : t.TotalSeconds % 3600 == 0 ? $"{t.TotalHours:0}h"
        : t.TotalSeconds % 60 == 0 ? $"{t.TotalMinutes:0}m"
        : $"{t.TotalSeconds:0}s";
}
