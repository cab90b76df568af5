using System.Text.Json;
using System.Text.Json.Nodes;

namespace NfsGate.Server.Config;

/// <summary>The effective configuration as JSON in the file's own key names, so it can be pasted back into a config file.</summary>
public static class ConfigPrinter
{
    public const string Masked = "***";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string ToJson(GatewayConfig c)
    {
        var o = c.ObjectStore;
        // Only the chosen backend's keys: the other backend's keys are refused by the parser, and this output must parse back.
        var store = new JsonObject { ["type"] = o.Type == ObjectStoreType.S3 ? "s3" : "local" };
        if (o.Type == ObjectStoreType.Local)
            store["path"] = o.Path;
        else
        {
            store["bucket"] = o.Bucket;
            store["endpoint"] = o.Endpoint;
            store["region"] = o.Region;
            store["prefix"] = o.Prefix;
            store["accessKey"] = o.AccessKey;
            // Never print a secret: check-config output ends up in tickets and CI logs.
            store["secretKey"] = o.SecretKey is null ? null : Masked;
            store["forcePathStyle"] = o.ForcePathStyle;
            store["storageClass"] = o.StorageClass;
            store["createBucket"] = o.CreateBucket;
            store["maxConcurrency"] = o.MaxConcurrency;
            store["maxRetries"] = o.MaxRetries;
            store["requestTimeout"] = Duration.Format(o.RequestTimeout);
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
                ["engine"] = c.Metadata.Engine switch { MetadataEngine.Memory => "memory", MetadataEngine.Postgres => "postgres", _ => "rocksdb" },
                ["connectionString"] = MetadataConnection.Masked(c.Metadata.ConnectionString),
                ["path"] = c.Metadata.Path,
            },
            ["objectStore"] = store,
            ["cache"] = new JsonObject
            {
                ["enabled"] = c.Cache.Enabled,
                ["path"] = c.Cache.Path,
                ["size"] = ByteSize.Format(c.Cache.SizeBytes),
                ["minFreeRatio"] = c.Cache.MinFreeRatio,
            },
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
