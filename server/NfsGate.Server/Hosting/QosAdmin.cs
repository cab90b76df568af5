using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NfsGate.Protocol;
using NfsGate.Protocol.Qos;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>Where an export's effective QoS comes from.</summary>
public enum QosSource { None, Config, Runtime }

/// <summary>An export's QoS as the admin API shows it.</summary>
public sealed record QosView(string Export, QosPolicy Policy, QosSource Source, QosStats Stats);

/// <summary>
/// Owns the QoS engine and the policies behind it. An export's policy is its runtime override (set through the admin
/// API or <c>nfsgate qos set</c>) when it has one, else <c>exports[].qos</c> from the config. Overrides are kept in
/// <c>DATADIR/qos-state.json</c> (a JSON state file, not metadata: it is operator state like the config, readable
/// and removable by hand, and the metadata key schema stays for file system data), written atomically before they
/// take effect, and read back at start, so runtime changes survive restarts. Deleting an override returns the export
/// to its configured policy. Thread-safe.
/// </summary>
public sealed class QosAdmin : IDisposable
{
    public const string StateFileName = "qos-state.json";
    /// <summary>A state file is a few policies; anything this big is not one.</summary>
    const long MaxStateBytes = 16 << 20;

    readonly Lock _lock = new();
    readonly ExportTable _exports;
    readonly IReadOnlyDictionary<string, QosPolicy?> _configured;
    readonly Dictionary<string, QosPolicy> _overrides;
    readonly ILogger _log;

    QosAdmin(string statePath, ExportTable exports, IReadOnlyDictionary<string, QosPolicy?> configured, Dictionary<string, QosPolicy> overrides,
        QosEngine engine, ILogger log)
    {
        StatePath = statePath;
        _exports = exports;
        _configured = configured;
        _overrides = overrides;
        Engine = engine;
        _log = log;
    }

    public QosEngine Engine { get; }
    public string StatePath { get; }

    /// <summary>Reads the state file (a damaged one stops start-up, like a bad config) and applies every export's policy.</summary>
    public static QosAdmin Open(GatewayConfig config, ExportTable exports, ILogger log, TimeProvider? time = null)
    {
        string path = Path.Combine(config.DataDir, StateFileName);
        var overrides = ReadState(path);
        var configured = config.Exports.ToDictionary(e => e.Name, e => e.Qos, StringComparer.Ordinal);
        var admin = new QosAdmin(path, exports, configured, overrides, new QosEngine(time), log);
        foreach (var e in config.Exports)
        {
            var view = admin.Apply(e.Name);
            if (view.Source != QosSource.None)
                log.LogInformation("qos {Export}: {Policy} ({Source})", e.Name, QosConfigReader.ToJson(view.Policy).ToJsonString(), view.Source == QosSource.Runtime ? "runtime override from " + path : "config");
        }
        return admin;
    }

    static Dictionary<string, QosPolicy> ReadState(string path)
    {
        var result = new Dictionary<string, QosPolicy>(StringComparer.Ordinal);
        if (!File.Exists(path)) return result;
        var info = new FileInfo(path);
        if (info.Length > MaxStateBytes) throw new ConfigException(path, $"larger than {MaxStateBytes} bytes; not a QoS state file");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new ConfigException(path, $"not valid JSON ({e.Message}); fix or remove it to drop the runtime QoS overrides");
        }
        if (root is not JsonObject obj || obj["exports"] is not JsonObject exports)
            throw new ConfigException(path, "expected { \"exports\": { NAME: QOS, ... } }; fix or remove it to drop the runtime QoS overrides");
        foreach (var (name, node) in exports)
        {
            if (node is null) continue;
            result[name] = QosConfigReader.Parse(node, $"{path}: exports.{name}");
        }
        return result;
    }

    /// <summary>The export names the admin API knows: the exports being served now.</summary>
    bool Exists(string export) => _exports.All.Any(e => e.Name == export);

    public IReadOnlyList<QosView> All()
    {
        lock (_lock) return _exports.All.Select(e => ViewLocked(e.Name)).ToList();
    }

    /// <summary>Null when no such export is served.</summary>
    public QosView? Get(string export)
    {
        lock (_lock) return Exists(export) ? ViewLocked(export) : null;
    }

    /// <summary>Makes <paramref name="policy"/> the export's runtime override: saved first, then applied. Null when no such export.</summary>
    public QosView? Set(string export, QosPolicy policy)
    {
        lock (_lock)
        {
            if (!Exists(export)) return null;
            var next = new Dictionary<string, QosPolicy>(_overrides, StringComparer.Ordinal) { [export] = policy };
            Save(next);
            _overrides[export] = policy;
            var view = Apply(export);
            _log.LogInformation("qos {Export}: set at runtime to {Policy}", export, QosConfigReader.ToJson(policy).ToJsonString());
            return view;
        }
    }

    /// <summary>Drops the export's runtime override: it returns to its configured policy. Null when no such export.</summary>
    public QosView? Reset(string export)
    {
        lock (_lock)
        {
            if (!Exists(export)) return null;
            if (_overrides.ContainsKey(export))
            {
                var next = new Dictionary<string, QosPolicy>(_overrides, StringComparer.Ordinal);
                next.Remove(export);
                Save(next);
                _overrides.Remove(export);
            }
            var view = Apply(export);
            _log.LogInformation("qos {Export}: runtime override removed, back to the config", export);
            return view;
        }
    }

    QosView Apply(string export)
    {
        var view = ViewLocked(export);
        Engine.Set(export, view.Policy);
        return view;
    }

    QosView ViewLocked(string export)
    {
        if (_overrides.TryGetValue(export, out var runtime))
            return new QosView(export, runtime, QosSource.Runtime, Engine.Stats(export));
        if (_configured.GetValueOrDefault(export) is { } configured)
            return new QosView(export, configured, QosSource.Config, Engine.Stats(export));
        return new QosView(export, QosPolicy.None, QosSource.None, Engine.Stats(export));
    }

    /// <summary>Write to a temporary file, fsync, rename over: a crash leaves the old file or the new one, never half of one.</summary>
    void Save(Dictionary<string, QosPolicy> overrides)
    {
        var exports = new JsonObject();
        foreach (var (name, policy) in overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            exports[name] = QosConfigReader.ToJson(policy);
        var root = new JsonObject
        {
            ["comment"] = "Runtime QoS overrides written by nfsgate (admin API / nfsgate qos set). They win over exports[].qos in the config.",
            ["exports"] = exports,
        };
        string tmp = StatePath + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            f.Write(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, StatePath, overwrite: true);
        // The directory is not fsynced: a power cut just after a change may bring back the previous state file
        // (whole, never torn), which for a rate cap is an acceptable loss next to a libc call duplicated here.
    }

    public void Dispose() => Engine.Dispose();
}
