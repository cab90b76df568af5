using System.Text.Json.Nodes;
using NfsGate.Protocol;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// One export in the config file's own JSON form, both ways: the admin API takes and returns this form, and the
/// config file is rewritten in it. Parsing goes through the config walker, so the API accepts exactly what the
/// file accepts, with the same error messages.
/// </summary>
public static class ExportAdminJson
{
    /// <summary>The export keys this form owns; others in the file (e.g. "qos") are left as they are.</summary>
    public static readonly string[] OwnedKeys = ["name", "path", "readOnly", "clients", "quota", "trash", "storageClass"];

    public static JsonObject ToJson(ExportConfig e)
    {
        var o = new JsonObject { ["name"] = e.Name, ["path"] = e.Path, ["readOnly"] = e.ReadOnly };
        if (e.Clients is { } rules)
        {
            var list = new JsonArray();
            foreach (var r in rules) list.Add(RuleToJson(r));
            o["clients"] = list;
        }
        if (!e.Quota.IsNone)
            o["quota"] = new JsonObject { ["bytes"] = e.Quota.Bytes, ["inodes"] = e.Quota.Inodes };
        if (e.TrashRetention > TimeSpan.Zero)
            o["trash"] = new JsonObject { ["retention"] = ConfigWalker.FormatRetention(e.TrashRetention) };
        if (e.StorageClass is { } storageClass)
            o["storageClass"] = storageClass;
        return o;
    }

    public static JsonObject RuleToJson(ClientRule r)
    {
        var o = new JsonObject
        {
            ["match"] = r.Match,
            ["access"] = r.Access switch { ExportAccess.ReadWrite => "rw", ExportAccess.ReadOnly => "ro", _ => "none" },
            ["squash"] = r.Squash switch { SquashMode.Root => "root", SquashMode.All => "all", _ => "none" },
            ["anonUid"] = r.AnonUid,
            ["anonGid"] = r.AnonGid,
        };
        if (r.RequirePrivilegedPort) o["requirePrivilegedPort"] = true;
        return o;
    }

    /// <summary>Parses one export object as the config file's exports[0] would be; throws <see cref="ConfigException"/>.</summary>
    public static ExportConfig Parse(JsonObject export)
    {
        var root = new JsonObject { ["exports"] = new JsonArray(export.DeepClone()) };
        var config = ConfigLoader.Parse(root.ToJsonString(), "request", new Dictionary<string, string>(), []);
        return config.Exports[0];
    }
}
