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
            exports.Add(Export(e));
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
                ["slowOperation"] = c.Log.SlowOperation is { } slow ? Duration.Format(slow) : "off",
            },
            ["writes"] = new JsonObject
            {
                ["commitMode"] = c.Writes.CommitMode == NfsGate.FileSystem.CommitMode.Writeback ? "writeback" : "strict",
                ["stagingPath"] = c.Writes.StagingPath,
                ["stagingSize"] = ByteSize.Format(c.Writes.StagingSize),
                ["stagingDrainTimeout"] = Duration.Format(c.Writes.StagingDrainTimeout),
                ["compactUploadConcurrency"] = c.Writes.CompactUploadConcurrency,
                ["inlineSize"] = ByteSize.Format(c.Writes.InlineSize),
            },
            ["proxyProtocol"] = new JsonObject
            {
                ["trustedSources"] = new JsonArray([.. c.ProxyProtocol.TrustedSources.Select(n => (JsonNode)JsonValue.Create(n.ToString()))]),
            },
        };
        return root.ToJsonString(Indented);
    }

    /// <summary>An export with its isolation keys and qos; keys whose value is the default are left out, as in a hand-written file.</summary>
    static JsonObject Export(ExportConfig e)
    {
        var o = new JsonObject { ["name"] = e.Name, ["path"] = e.Path, ["readOnly"] = e.ReadOnly };
        if (e.Clients is { } rules)
            o["clients"] = new JsonArray([.. rules.Select(r => (JsonNode)new JsonObject
            {
                ["match"] = r.Match,
                ["access"] = r.Access switch { NfsGate.Protocol.ExportAccess.ReadOnly => "ro", NfsGate.Protocol.ExportAccess.None => "none", _ => "rw" },
                ["squash"] = r.Squash switch { NfsGate.Protocol.SquashMode.All => "all", NfsGate.Protocol.SquashMode.None => "none", _ => "root" },
                ["anonUid"] = r.AnonUid,
                ["anonGid"] = r.AnonGid,
                ["requirePrivilegedPort"] = r.RequirePrivilegedPort,
            })]);
        if (e.Quota.Bytes != 0 || e.Quota.Inodes != 0)
        {
            var quota = new JsonObject();
            if (e.Quota.Bytes != 0) quota["bytes"] = ByteSize.Format((long)e.Quota.Bytes);
            if (e.Quota.Inodes != 0) quota["inodes"] = e.Quota.Inodes;
            o["quota"] = quota;
        }
        if (e.TrashRetention != TimeSpan.Zero)
            o["trash"] = new JsonObject { ["retention"] = ConfigWalker.FormatRetention(e.TrashRetention) };
        if (e.StorageClass is not null)
            o["storageClass"] = e.StorageClass;
        if (e.Qos is { } qos)
            o["qos"] = QosConfigReader.ToJson(qos);
        return o;
    }
}
