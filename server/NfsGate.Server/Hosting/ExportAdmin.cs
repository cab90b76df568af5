using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Protocol;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>The outcome of a runtime change: HTTP-like status, an error for the operator, and whether the config file now holds it.</summary>
public sealed record ExportChange(int Status, string? Error, bool Persisted)
{
    public bool Ok => Status is >= 200 and < 300;
}

/// <summary>
/// Owns the live export set: publishes it into the <see cref="ExportTable"/> (one atomic swap, so calls in flight
/// finish on the old set and the next call sees the new one), writes quotas into the volumes' metadata, and applies
/// runtime changes from the admin API and from SIGHUP.
/// <para>
/// Runtime changes are persisted by rewriting the config file's "exports" list (atomically: temp file + rename).
/// The file stays the one source of truth: a SIGHUP or a restart after an API change keeps it, and what an
/// operator reads in the file is what runs. Storing changes in metadata instead would leave two sources that a
/// reload would have to merge. The price: the rewritten file loses its comments. Without a config file
/// (tests, `nfsgate serve` with flags only) changes apply in memory and the API says "persisted": false.
/// </para>
/// Quotas live in metadata too, but only as the enforced copy of what the config says (the check must run inside
/// the same transaction as the usage counters).
/// </summary>
public sealed partial class ExportAdmin
{
    readonly ExportTable _table;
    readonly IMetadataStore _meta;
    readonly IFileSystem _fs;
    readonly ILogger _log;
    readonly Lock _lock = new();
    List<ExportConfig> _current = [];
    Func<GatewayConfig>? _reload;

    public ExportAdmin(ExportTable table, IMetadataStore meta, IFileSystem fs, ILogger logger)
    {
        _table = table;
        _meta = meta;
        _fs = fs;
        _log = logger;
    }

    /// <summary>The file runtime changes are written to; null = in memory only.</summary>
    public string? ConfigFile { get; private set; }

    public IReadOnlyList<ExportConfig> Current
    {
        get { lock (_lock) return [.. _current]; }
    }

    public IMetadataStore Metadata => _meta;

    /// <summary>Where changes persist, and how SIGHUP re-reads the configuration (file + environment + flags).</summary>
    public void UseConfigFile(string? configFile, Func<GatewayConfig>? reload)
    {
        lock (_lock)
        {
            ConfigFile = configFile;
            _reload = reload;
        }
    }

    /// <summary>Publishes <paramref name="exports"/> as the whole export set. Throws ArgumentException if two share a name or path.</summary>
    public void Apply(IReadOnlyList<ExportConfig> exports)
    {
        lock (_lock)
        {
            if (Validate(exports) is { } problem) throw new ArgumentException(problem);
            Publish(exports);
        }
    }

    /// <summary>SIGHUP: re-read the configuration and apply its exports. A bad file changes nothing (and says why).</summary>
    public bool Reload()
    {
        Func<GatewayConfig>? reload;
        lock (_lock) reload = _reload;
        if (reload is null)
        {
            LogReloadFailed(_log, "the server was started without a way to re-read its configuration");
            return false;
        }
        try
        {
            var config = reload();
            Apply(config.Exports);
            LogReloaded(_log, config.Exports.Count);
            return true;
        }
        catch (Exception e) when (e is ConfigException or ArgumentException)
        {
            LogReloadFailed(_log, e.Message);
            return false;
        }
    }

    public ExportChange Add(ExportConfig e) => Change(list =>
    {
        if (list.Any(x => x.Name == e.Name)) return (409, $"export \"{e.Name}\" exists");
        list.Add(e);
        return (201, null);
    });

    /// <summary>Replaces an export's definition; the name must stay (it is the volume's identity).</summary>
    public ExportChange Replace(string name, ExportConfig e) => Change(list =>
    {
        int i = list.FindIndex(x => x.Name == name);
        if (i < 0) return (404, $"no export \"{name}\"");
        if (e.Name != name) return (400, "an export cannot be renamed (its name names its volume); remove it and add another");
        list[i] = e;
        return (200, null);
    });

    public ExportChange Update(string name, Func<ExportConfig, ExportConfig> update) => Change(list =>
    {
        int i = list.FindIndex(x => x.Name == name);
        if (i < 0) return (404, $"no export \"{name}\"");
        list[i] = update(list[i]);
        return (200, null);
    });

    /// <summary>Unpublishes an export. Its volume and data stay in metadata: adding it back under the same name brings them back.</summary>
    public ExportChange Remove(string name) => Change(list =>
    {
        int i = list.FindIndex(x => x.Name == name);
        if (i < 0) return (404, $"no export \"{name}\"");
        if (list.Count == 1) return (409, "the last export cannot be removed (the configuration needs at least one)");
        list.RemoveAt(i);
        return (200, null);
    });

    ExportChange Change(Func<List<ExportConfig>, (int Status, string? Error)> edit)
    {
        lock (_lock)
        {
            var list = new List<ExportConfig>(_current);
            var (status, error) = edit(list);
            if (error is not null) return new ExportChange(status, error, false);
            if (Validate(list) is { } problem) return new ExportChange(409, problem, false);
            bool persisted = false;
            if (ConfigFile is { } file)
            {
                // Written first: a change the file cannot hold is refused instead of silently lost at the next restart.
                if (Persist(file, list) is { } ioError) return new ExportChange(500, ioError, false);
                persisted = true;
            }
            Publish(list);
            return new ExportChange(status, null, persisted);
        }
    }

    static string? Validate(IReadOnlyList<ExportConfig> exports)
    {
        if (exports.Count == 0) return "at least one export is needed";
        var names = new HashSet<string>(StringComparer.Ordinal);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in exports)
        {
            if (!names.Add(e.Name)) return $"duplicate export name \"{e.Name}\"";
            var path = ExportTable.NormalizePath(e.Path);
            if (path is null) return $"export path must be absolute: \"{e.Path}\"";
            if (!paths.Add(path)) return $"duplicate export path \"{path}\"";
        }
        return null;
    }

    void Publish(IReadOnlyList<ExportConfig> configs)
    {
        var exports = new List<Export>(configs.Count);
        foreach (var e in configs)
        {
            uint id = _meta.GetOrCreateVolumeId(e.Name);
            if (VolumeMeta.GetQuota(_meta.Kv, id) != e.Quota) VolumeMeta.SetQuota(_meta.Kv, id, e.Quota);
            if (VolumeMeta.GetTrashRetention(_meta.Kv, id) != e.TrashRetention) VolumeMeta.SetTrashRetention(_meta.Kv, id, e.TrashRetention);
            _fs.SetStorageClass(id, e.StorageClass);
            exports.Add(new Export(id, e.Name, e.Path, e.ReadOnly, _fs.Volume(id))
            {
                Clients = e.Clients,
                Quota = e.Quota.IsNone ? null : e.Quota,
                QuotaUsage = () => VolumeMeta.QuotaUsage(_meta.Kv, id),
            });
            LogExport(_log, e.Name, e.Path, e.ReadOnly ? "read-only" : "read-write", id, e.Clients?.Count ?? 0,
                e.Quota.Bytes, e.Quota.Inodes, ConfigWalker.FormatRetention(e.TrashRetention));
            if (e.Clients is null) LogOpenExport(_log, e.Name);
        }
        _table.Replace(exports);
        _current = [.. configs];
    }

    /// <summary>Rewrites the file's "exports" list, keeping its other keys; null on success, else why not.</summary>
    static string? Persist(string file, IReadOnlyList<ExportConfig> exports)
    {
        try
        {
            JsonObject root;
            var text = File.Exists(file) ? File.ReadAllText(file) : "";
            if (string.IsNullOrWhiteSpace(text)) root = new JsonObject();
            else if (JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) is JsonObject o) root = o;
            else return $"{file}: the top level is not a JSON object; not rewritten";
            // Each export keeps the keys this class does not own (e.g. "qos") from its object in the file.
            var old = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            if (root["exports"] is JsonArray oldList)
                foreach (var n in oldList)
                    if (n is JsonObject eo && eo["name"] is JsonValue nv && nv.TryGetValue(out string? nm)) old[nm] = eo;
            var list = new JsonArray();
            foreach (var e in exports)
            {
                var mine = ExportAdminJson.ToJson(e);
                var merged = old.TryGetValue(e.Name, out var prev) ? (JsonObject)prev.DeepClone() : new JsonObject();
                foreach (var key in ExportAdminJson.OwnedKeys) merged.Remove(key);
                foreach (var (k, v) in mine) merged[k] = v?.DeepClone();
                list.Add(merged);
            }
            root["exports"] = list;
            var tmp = file + ".tmp";
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                f.Write(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, file, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return $"cannot write {file}: {e.Message}";
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "export {Name}: {Path} ({Mode}, volume {Id}, {Rules} client rules, quota {QuotaBytes} bytes / {QuotaInodes} inodes (0 = none), trash {Trash})")]
    static partial void LogExport(ILogger logger, string name, string path, string mode, uint id, int rules, ulong quotaBytes, ulong quotaInodes, string trash);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "export {Name} has no \"clients\" rules: every client may mount it read-write, root included; add rules to restrict it")]
    static partial void LogOpenExport(ILogger logger, string name);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "configuration reloaded: {Count} exports")]
    static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "configuration reload failed, exports unchanged: {Reason}")]
    static partial void LogReloadFailed(ILogger logger, string reason);
}
