using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serilog.Events;

namespace NfsGate.Server.Config;

/// <summary>
/// The strict half of config loading: every key must be known, every value of the right type and form.
/// Nothing is silently ignored, because a misspelt "readOnly" that is skipped exports data read-write.
/// </summary>
internal sealed partial class ConfigWalker(IReadOnlyDictionary<JsonNode, string> origins)
{
    static readonly string[] TopKeys = ["listen", "portmapper", "http", "dataDir", "metadata", "objectStore", "cache", "exports", "log", "writes", "proxyProtocol"];
    static readonly string[] MetadataKeys = ["engine", "path", "connectionString"];
    static readonly string[] LocalStoreKeys = ["path"];
    static readonly string[] S3StoreKeys =
    [
        "bucket", "endpoint", "region", "prefix", "accessKey", "secretKey", "forcePathStyle", "storageClass", "createBucket",
        "maxConcurrency", "maxRetries", "requestTimeout",
    ];
    static readonly string[] ObjectStoreKeys = ["type", .. LocalStoreKeys, .. S3StoreKeys];
    static readonly string[] CacheKeys = ["path", "size", "minFreeRatio", "enabled"];
    static readonly string[] ExportKeys = ["name", "path", "readOnly", .. ExportIsolationKeys, "qos"];
    static readonly string[] LogKeys = ["level", "format", "file", "slowOperation"];
    static readonly string[] WritesKeys = ["commitMode", "stagingPath", "stagingSize", "stagingDrainTimeout", "compactUploadConcurrency", "inlineSize"];

    public static readonly IReadOnlyList<string> AllKeyNames =
        TopKeys.Concat(MetadataKeys).Concat(ObjectStoreKeys).Concat(CacheKeys).Concat(ExportKeys).Concat(ExportNestedKeys).Concat(LogKeys).Concat(WritesKeys).Concat(ProxyProtocolKeys).Concat(QosConfigReader.KeyNames).Distinct().ToArray();

    public const long DefaultCacheSize = 1L << 30;
    const int MaxExports = 256;
    const int MaxExportNameLength = 64;

    public GatewayConfig Walk(JsonObject root)
    {
        CheckKeys(root, "", TopKeys);
        string dataDir = Path.GetFullPath(OptionalString(root, "dataDir", "") ?? GatewayConfig.DefaultDataDir);

        var metadataNode = OptionalObject(root, "metadata", "");
        var metadata = new MetadataConfig(MetadataEngine.RocksDb, Path.Combine(dataDir, "meta"));
        if (metadataNode is not null)
        {
            CheckKeys(metadataNode, "metadata", MetadataKeys);
            var engine = OptionalString(metadataNode, "engine", "metadata") switch
            {
                null or "rocksdb" => MetadataEngine.RocksDb,
                "memory" => MetadataEngine.Memory,
                "postgres" => MetadataEngine.Postgres,
                _ => throw Error(metadataNode["engine"], "metadata.engine", "expected \"rocksdb\" or \"memory\" (one node), or \"postgres\" (shared by several)"),
            };
            metadata = new MetadataConfig(engine, FullPath(OptionalString(metadataNode, "path", "metadata")) ?? metadata.Path)
            {
                ConnectionString = MetadataConnectionString(metadataNode, engine),
            };
        }

        var storeNode = OptionalObject(root, "objectStore", "");
        var store = new ObjectStoreConfig(ObjectStoreType.Local, Path.Combine(dataDir, "objects"));
        if (storeNode is not null)
            store = ObjectStore(storeNode, store.Path);

        var cacheNode = OptionalObject(root, "cache", "");
        var cache = new CacheConfig(Path.Combine(dataDir, "cache"), DefaultCacheSize);
        if (cacheNode is not null)
        {
            CheckKeys(cacheNode, "cache", CacheKeys);
            cache = new CacheConfig(FullPath(OptionalString(cacheNode, "path", "cache")) ?? cache.Path,
                OptionalSize(cacheNode, "size", "cache") ?? cache.SizeBytes)
            {
                Enabled = OptionalBool(cacheNode, "enabled", "cache") ?? true,
                // Below 1: a cache that must keep the whole disk free could never hold anything.
                MinFreeRatio = OptionalNumber(cacheNode, "minFreeRatio", "cache", 0, 1, maxInclusive: false) ?? CacheConfig.DefaultMinFreeRatio,
            };
        }

        return new GatewayConfig
        {
            Listen = OptionalEndpoint(root, "listen", allowOff: false) ?? new IPEndPoint(IPAddress.Any, 2049),
            Portmapper = OptionalEndpoint(root, "portmapper", allowOff: true, new IPEndPoint(IPAddress.Any, 111)),
            Http = OptionalEndpoint(root, "http", allowOff: true, new IPEndPoint(IPAddress.Loopback, 9109)),
            DataDir = dataDir,
            Metadata = metadata,
            ObjectStore = store,
            Cache = cache,
            Exports = Exports(root),
            Log = Log(root),
            Writes = Writes(root, dataDir),
            ProxyProtocol = ProxyProtocol(root), // ConfigWalker.Proxy.cs
        };
    }

    WritesConfig Writes(JsonObject root, string dataDir)
    {
        var node = OptionalObject(root, "writes", "");
        var writes = new WritesConfig(NfsGate.FileSystem.CommitMode.Strict, Path.Combine(dataDir, "staging"), WritesConfig.DefaultStagingSize);
        if (node is null)
            return writes;
        CheckKeys(node, "writes", WritesKeys);
        var mode = OptionalString(node, "commitMode", "writes") switch
        {
            null or "strict" => NfsGate.FileSystem.CommitMode.Strict,
            "writeback" => NfsGate.FileSystem.CommitMode.Writeback,
            _ => throw Error(node["commitMode"], "writes.commitMode", "expected \"strict\" or \"writeback\""),
        };
        long size = OptionalSize(node, "stagingSize", "writes") ?? writes.StagingSize;
        // Below one full block (4 MiB) every large COMMIT would be refused.
        if (size < 4L << 20)
            throw Error(node["stagingSize"], "writes.stagingSize", "must be at least 4MiB");
        return new WritesConfig(mode, FullPath(OptionalString(node, "stagingPath", "writes")) ?? writes.StagingPath, size)
        {
            StagingDrainTimeout = OptionalDuration(node, "stagingDrainTimeout", "writes") ?? writes.StagingDrainTimeout,
            // 64: far above the client lanes' 8; compaction is background upkeep and must not crowd out client uploads.
            CompactUploadConcurrency = OptionalInt(node, "compactUploadConcurrency", "writes", 1, 64) ?? writes.CompactUploadConcurrency,
            InlineSize = InlineSize(node) ?? writes.InlineSize,
        };
    }

    /// <summary>
    /// writes.inlineSize: 0 (off) to 1MiB. Past that a flush's inline bytes would be a large share of the metadata
    /// transaction and the WAL, which is what the limit is there to keep small.
    /// </summary>
    long? InlineSize(JsonObject node)
    {
        long? size = OptionalSize(node, "inlineSize", "writes");
        if (size > 1L << 20)
            throw Error(node["inlineSize"], "writes.inlineSize", "must be at most 1MiB (0 turns inline commits off)");
        return size;
    }

    ObjectStoreConfig ObjectStore(JsonObject node, string defaultPath)
    {
        const string at = "objectStore";
        CheckKeys(node, at, ObjectStoreKeys);
        var type = OptionalString(node, "type", at) switch
        {
            null or "local" => ObjectStoreType.Local,
            "s3" => ObjectStoreType.S3,
            _ => throw Error(node["type"], "objectStore.type", "expected \"local\" or \"s3\""),
        };
        // A key of the other backend is almost always a mistake (a bucket given while type is still "local" would
        // silently keep the data on local disk), so it is refused like an unknown key.
        string typeName = type == ObjectStoreType.S3 ? "s3" : "local";
        foreach (string key in type == ObjectStoreType.S3 ? LocalStoreKeys : S3StoreKeys)
            if (node.ContainsKey(key))
                throw Error(node[key], Join(at, key), $"only for objectStore.type \"{(type == ObjectStoreType.S3 ? "local" : "s3")}\", but type is \"{typeName}\"");

        if (type == ObjectStoreType.Local)
            return new ObjectStoreConfig(type, FullPath(OptionalString(node, "path", at)) ?? defaultPath);

        string bucket = RequiredString(node, "bucket", at);
        // S3 bucket names: 3-63 of a-z 0-9 . - (AWS rules; S3-compatible servers accept a superset).
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-'))
            throw Error(node["bucket"], "objectStore.bucket", "must be 3-63 characters of a-z 0-9 . -");
        string? endpoint = OptionalString(node, "endpoint", at);
        if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            throw Error(node["endpoint"], "objectStore.endpoint", $"expected an http:// or https:// URL, got {Describe(node["endpoint"]!)}");
        string region = OptionalString(node, "region", at) ?? ObjectStoreConfig.DefaultRegion;
        if (region.Length == 0)
            throw Error(node["region"], "objectStore.region", "must not be empty");
        string prefix = OptionalString(node, "prefix", at) ?? "";
        if (prefix.StartsWith('/') || prefix.Contains('\0') || prefix.Length > 512)
            throw Error(node["prefix"], "objectStore.prefix", "must be relative (no leading '/'), at most 512 characters");
        string? accessKey = OptionalString(node, "accessKey", at);
        string? secretKey = OptionalString(node, "secretKey", at);
        if (accessKey is not null && secretKey is null)
            throw Error(node["accessKey"], "objectStore.secretKey", "missing (accessKey and secretKey go together)");
        if (secretKey is not null && accessKey is null)
            throw Error(node["secretKey"], "objectStore.accessKey", "missing (accessKey and secretKey go together)");
        string? storageClass = OptionalString(node, "storageClass", at);
        if (storageClass is not null)
        {
            if (storageClass.Length == 0 || !storageClass.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
                throw Error(node["storageClass"], "objectStore.storageClass", "expected an S3 storage class like \"STANDARD\" or \"STANDARD_IA\"");
            // Archive classes need a restore before every GET: NFS reads would fail.
            if (storageClass is "GLACIER" or "DEEP_ARCHIVE")
                throw Error(node["storageClass"], "objectStore.storageClass", $"{storageClass} objects cannot be read without a restore; use GLACIER_IR for cold data");
        }
        return new ObjectStoreConfig(type, defaultPath)
        {
            Bucket = bucket,
            Endpoint = endpoint,
            Region = region,
            Prefix = prefix,
            AccessKey = accessKey,
            SecretKey = secretKey,
            ForcePathStyle = OptionalBool(node, "forcePathStyle", at) ?? endpoint is not null,
            StorageClass = storageClass,
            CreateBucket = OptionalBool(node, "createBucket", at) ?? false,
            // 1024: far above what one gateway's connection pool should hold open to one endpoint.
            MaxConcurrency = OptionalInt(node, "maxConcurrency", at, 1, 1024) ?? ObjectStoreConfig.DefaultMaxConcurrency,
            MaxRetries = OptionalInt(node, "maxRetries", at, 0, 100) ?? ObjectStoreConfig.DefaultMaxRetries,
            RequestTimeout = OptionalDuration(node, "requestTimeout", at) ?? ObjectStoreConfig.DefaultRequestTimeout,
        };
    }

    IReadOnlyList<ExportConfig> Exports(JsonObject root)
    {
        if (!root.ContainsKey("exports"))
            return [new ExportConfig("default", "/", ReadOnly: false)];
        if (root["exports"] is not JsonArray array)
            throw Error(root["exports"], "exports", "expected a list of exports");
        if (array.Count == 0)
            throw Error(array, "exports", "at least one export is needed");
        if (array.Count > MaxExports)
            throw Error(array, "exports", $"at most {MaxExports} exports");
        var result = new List<ExportConfig>();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var paths = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < array.Count; i++)
        {
            string at = $"exports[{i}]";
            if (array[i] is not JsonObject export)
                throw Error(array[i], at, "expected an object with name, path and readOnly");
            CheckKeys(export, at, ExportKeys);
            string name = RequiredString(export, "name", at);
            if (name.Length == 0 || name.Length > MaxExportNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw Error(export["name"], $"{at}.name", $"must be 1-{MaxExportNameLength} characters of A-Z a-z 0-9 . _ -");
            string path = RequiredString(export, "path", at);
            if (!path.StartsWith('/'))
                throw Error(export["path"], $"{at}.path", "must start with '/'");
            if (path.Length > 1024 || path.Contains('\0'))
                throw Error(export["path"], $"{at}.path", "not a valid mount path");
            if (names.TryGetValue(name, out int firstName))
                throw Error(export["name"], $"{at}.name", $"duplicate export name \"{name}\" (also exports[{firstName}].name)");
            if (paths.TryGetValue(path, out int firstPath))
                throw Error(export["path"], $"{at}.path", $"duplicate export path \"{path}\" (also exports[{firstPath}].path)");
            names[name] = i;
            paths[path] = i;
            result.Add(ExportIsolation(export, at, new ExportConfig(name, path, OptionalBool(export, "readOnly", at) ?? false)));
            result[^1] = result[^1] with { Qos = QosConfigReader.ReadExport(export, at, origins) };
        }
        return result;
    }

    LogConfig Log(JsonObject root)
    {
        var node = OptionalObject(root, "log", "");
        if (node is null)
            return new LogConfig(LogEventLevel.Information, LogFormat.Text, null);
        CheckKeys(node, "log", LogKeys);
        var level = OptionalString(node, "level", "log")?.ToLowerInvariant() switch
        {
            null or "information" or "info" => LogEventLevel.Information,
            "verbose" or "trace" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            "fatal" => LogEventLevel.Fatal,
            _ => throw Error(node["level"], "log.level", "expected verbose, debug, information, warning, error or fatal"),
        };
        var format = OptionalString(node, "format", "log") switch
        {
            null or "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            _ => throw Error(node["format"], "log.format", "expected \"text\" or \"json\""),
        };
        var slow = node["slowOperation"] is JsonValue sv && sv.GetValueKind() == JsonValueKind.String && sv.GetValue<string>() == "off"
            ? (TimeSpan?)null : OptionalDuration(node, "slowOperation", "log") ?? LogConfig.DefaultSlowOperation;
        return new LogConfig(level, format, FullPath(OptionalString(node, "file", "log"))) { SlowOperation = slow };
    }

    void CheckKeys(JsonObject obj, string at, string[] known)
    {
        foreach (var kv in obj)
            if (!known.Contains(kv.Key, StringComparer.Ordinal))
                throw Error(kv.Value, Join(at, kv.Key), $"unknown key (known: {string.Join(", ", known)})");
    }

    JsonObject? OptionalObject(JsonObject parent, string key, string at)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        return node as JsonObject ?? throw Error(node, Join(at, key), $"expected an object, got {Kind(node)}");
    }

    string RequiredString(JsonObject parent, string key, string at) =>
        OptionalString(parent, key, at) ?? throw Error(parent, Join(at, key), "missing");

    string? OptionalString(JsonObject parent, string key, string at)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            return v.GetValue<string>();
        throw Error(node, Join(at, key), $"expected a string, got {Kind(node)}");
    }

    bool? OptionalBool(JsonObject parent, string key, string at)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.String when origins.ContainsKey(node):
                    string s = v.GetValue<string>();
                    if (s.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
                    if (s.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
                    break;
            }
        }
        throw Error(node, Join(at, key), $"expected true or false, got {Kind(node)}");
    }

    long? OptionalSize(JsonObject parent, string key, string at)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long n) && n >= 0)
                return n;
            if (v.GetValueKind() == JsonValueKind.String && ByteSize.TryParse(v.GetValue<string>(), out long bytes))
                return bytes;
        }
        throw Error(node, Join(at, key), $"expected a size like \"512MiB\", \"10GiB\", \"1.5TiB\" or a number of bytes, got {Describe(node)}");
    }

    /// <summary>A whole number in [min, max]; from the environment it arrives as a string.</summary>
    int? OptionalInt(JsonObject parent, string key, string at, int min, int max)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int n) && n >= min && n <= max)
                return n;
            if (v.GetValueKind() == JsonValueKind.String && origins.ContainsKey(node)
                && int.TryParse(v.GetValue<string>(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n)
                && n >= min && n <= max)
                return n;
        }
        throw Error(node, Join(at, key), $"expected a whole number from {min} to {max}, got {Describe(node)}");
    }

    /// <summary>A number in [min, max] (or [min, max) when <paramref name="maxInclusive"/> is false); from the environment it arrives as a string.</summary>
    double? OptionalNumber(JsonObject parent, string key, string at, double min, double max, bool maxInclusive)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v)
        {
            double d = double.NaN;
            if (v.GetValueKind() == JsonValueKind.Number)
                v.TryGetValue(out d);
            else if (v.GetValueKind() == JsonValueKind.String && origins.ContainsKey(node)
                && !double.TryParse(v.GetValue<string>(), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out d))
                d = double.NaN;
            if (d >= min && (maxInclusive ? d <= max : d < max))
                return d;
        }
        string upper = maxInclusive ? $"at most {max}" : $"below {max}";
        throw Error(node, Join(at, key), $"expected a number from {min}, {upper}, got {Describe(node)}");
    }

    TimeSpan? OptionalDuration(JsonObject parent, string key, string at)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && Duration.TryParse(v.GetValue<string>(), out var value) && value > TimeSpan.Zero)
            return value;
        throw Error(node, Join(at, key), $"expected a positive duration like \"30s\", \"500ms\", \"2m\" (at most 1 day), got {Describe(node)}");
    }

    IPEndPoint? OptionalEndpoint(JsonObject parent, string key, bool allowOff, IPEndPoint? fallback = null)
    {
        if (!parent.TryGetPropertyValue(key, out var node) || node is null)
            return fallback;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            string s = v.GetValue<string>();
            if (allowOff && s == "off")
                return null;
            if (Endpoint.TryParse(s, out var endpoint))
                return endpoint;
        }
        string expected = allowOff ? "an address HOST:PORT or \"off\"" : "an address HOST:PORT";
        throw Error(node, key, $"expected {expected}, got {Describe(node)}");
    }

    static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    static string Join(string at, string key) => at.Length == 0 ? key : $"{at}.{key}";

    static string Kind(JsonNode node) => node switch
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

    static string Describe(JsonNode node) =>
        node is JsonValue ? node.ToJsonString() : Kind(node);

    ConfigException Error(JsonNode? node, string keyPath, string problem)
    {
        if (node is not null && origins.TryGetValue(node, out var origin))
            problem += $" (from {origin})";
        return new ConfigException(keyPath, problem);
    }
}
