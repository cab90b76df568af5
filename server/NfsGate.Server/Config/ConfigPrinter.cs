using System.Text.Json;
using System.Text.Json.Nodes;

namespace NfsGate.Server.Config;

/// <summary>The effective configuration as JSON in the file's own key names, so it can be pasted back into a config file.</summary>
public static class ConfigPrinter
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string ToJson(GatewayConfig c)
    {
        var store = new JsonObject
        {
            ["type"] = c.ObjectStore.Type == ObjectStoreType.S3 ? "s3" : "local",
            ["path"] = c.ObjectStore.Path,
        };
        if (c.ObjectStore.Type == ObjectStoreType.S3)
        {
            store["bucket"] = c.ObjectStore.Bucket;
            store["endpoint"] = c.ObjectStore.Endpoint;
            store["region"] = c.ObjectStore.Region;
            store["prefix"] = c.ObjectStore.Prefix;
            store["accessKey"] = c.ObjectStore.AccessKey;
            // Never print a secret: check-config output ends up in tickets and CI logs.
            store["secretKey"] = c.ObjectStore.SecretKey is null ? null : "***";
            store["forcePathStyle"] = c.ObjectStore.ForcePathStyle;
        }
        var exports = new JsonArray();
        foreach (var e in c.Exports)
            exports.Add(new JsonObject { ["name"] = e.Name, ["path"] = e.Path, ["readOnly"] = e.ReadOnly });
        var root = new JsonObject
        {
            ["listen"] = Endpoint.Format(c.Listen),
            ["portmapper"] = c.Portmapper is null ? "off" : Endpoint.Format(c.Portmapper),
            ["http"] = c.Http is null ? "off" : Endpoint.Format(c.Http),
            ["dataDir"] = c.DataDir,
            ["metadata"] = new JsonObject
            {
                ["engine"] = c.Metadata.Engine == MetadataEngine.Memory ? "memory" : "rocksdb",
                ["path"] = c.Metadata.Path,
            },
            ["objectStore"] = store,
            ["cache"] = new JsonObject { ["path"] = c.Cache.Path, ["size"] = ByteSize.Format(c.Cache.SizeBytes) },
            ["exports"] = exports,
            ["log"] = new JsonObject
            {
                ["level"] = c.Log.Level.ToString().ToLowerInvariant(),
                ["format"] = c.Log.Format == LogFormat.Json ? "json" : "text",
                ["file"] = c.Log.File,
            },
        };
        return root.ToJsonString(Indented);
    }
}
