using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serilog.Events;

namespace NfsGate.Server.Config;

/// <summary>
/// The strict half of config loading: every key must be known, every value of the right type and form.
/// Nothing is silently ignored, because a misspelt "readOnly" that is skipped exports data read-write.
/// </summary>
internal sealed class ConfigWalker(IReadOnlyDictionary<JsonNode, string> origins)
{
    static readonly string[] TopKeys = ["listen", "portmapper", "http", "dataDir", "metadata", "objectStore", "cache", "exports", "log"];
    static readonly string[] MetadataKeys = ["engine", "path"];
    static readonly string[] ObjectStoreKeys = ["type", "path", "bucket", "endpoint", "region", "prefix", "accessKey", "secretKey", "forcePathStyle"];
    static readonly string[] CacheKeys = ["path", "size"];
    static readonly string[] ExportKeys = ["name", "path", "readOnly"];
    static readonly string[] LogKeys = ["level", "format", "file"];

    public static readonly IReadOnlyList<string> AllKeyNames =
        TopKeys.Concat(MetadataKeys).Concat(ObjectStoreKeys).Concat(CacheKeys).Concat(ExportKeys).Concat(LogKeys).Distinct().ToArray();

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
                _ => throw Error(metadataNode["engine"], "metadata.engine", "expected \"rocksdb\" or \"memory\""),
            };
            metadata = new MetadataConfig(engine, FullPath(OptionalString(metadataNode, "path", "metadata")) ?? metadata.Path);
        }

        var storeNode = OptionalObject(root, "objectStore", "");
        var store = new ObjectStoreConfig(ObjectStoreType.Local, Path.Combine(dataDir, "objects"));
        if (storeNode is not null)
        {
            CheckKeys(storeNode, "objectStore", ObjectStoreKeys);
            var type = OptionalString(storeNode, "type", "objectStore") switch
            {
                null or "local" => ObjectStoreType.Local,
                "s3" => ObjectStoreType.S3,
                _ => throw Error(storeNode["type"], "objectStore.type", "expected \"local\" or \"s3\""),
            };
            store = new ObjectStoreConfig(type, FullPath(OptionalString(storeNode, "path", "objectStore")) ?? store.Path)
            {
                Bucket = OptionalString(storeNode, "bucket", "objectStore"),
                Endpoint = OptionalString(storeNode, "endpoint", "objectStore"),
                Region = OptionalString(storeNode, "region", "objectStore"),
                Prefix = OptionalString(storeNode, "prefix", "objectStore"),
                AccessKey = OptionalString(storeNode, "accessKey", "objectStore"),
                SecretKey = OptionalString(storeNode, "secretKey", "objectStore"),
                ForcePathStyle = OptionalBool(storeNode, "forcePathStyle", "objectStore") ?? false,
            };
        }

        var cacheNode = OptionalObject(root, "cache", "");
        var cache = new CacheConfig(Path.Combine(dataDir, "cache"), DefaultCacheSize);
        if (cacheNode is not null)
        {
            CheckKeys(cacheNode, "cache", CacheKeys);
            cache = new CacheConfig(FullPath(OptionalString(cacheNode, "path", "cache")) ?? cache.Path,
                OptionalSize(cacheNode, "size", "cache") ?? cache.SizeBytes);
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
            result.Add(new ExportConfig(name, path, OptionalBool(export, "readOnly", at) ?? false));
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
        return new LogConfig(level, format, FullPath(OptionalString(node, "file", "log")));
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
