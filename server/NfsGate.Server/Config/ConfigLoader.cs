using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NfsGate.Server.Config;

/// <summary>
/// Builds the effective configuration: the JSON file (comments and trailing commas allowed), then environment
/// overrides (<c>NFSGATE_LISTEN</c>, <c>NFSGATE_CACHE__SIZE</c>, <c>NFSGATE_EXPORTS__0__READONLY</c>), then
/// command-line flags, then a strict walk that rejects anything it does not know (<see cref="ConfigWalker"/>).
/// All three sources are merged into one JSON tree first, so every error names the same key path whatever
/// its source.
/// </summary>
public static class ConfigLoader
{
    public const string EnvPrefix = "NFSGATE_";

    /// <summary>
    /// NFSGATE_* variables that are not configuration: switches of the test suite (NFSGATE_SKIP_S3=1 skips the S3
    /// tests). They are set for a whole `make test`, which also runs nfsgate, so they must not be unknown keys.
    /// </summary>
    public static readonly IReadOnlySet<string> ReservedVariables = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "NFSGATE_SKIP_S3", "NFSGATE_SKIP_PG" };

    static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 32,
    };

    /// <summary>Loads from a file (or none), the process environment and flag overrides (key path → value).</summary>
    public static GatewayConfig Load(string? configFile, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<KeyValuePair<string, string>>? flagOverrides = null)
    {
        string? text = null;
        if (configFile is not null)
        {
            try
            {
                text = File.ReadAllText(configFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException(configFile, $"cannot read: {e.Message}");
            }
        }
        return Parse(text, configFile ?? "(no file)", environment ?? ProcessEnvironment(), flagOverrides ?? []);
    }

    /// <summary>The pure part of <see cref="Load"/>: JSON text (null = empty config), environment and flags.</summary>
    public static GatewayConfig Parse(string? json, string sourceName, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<KeyValuePair<string, string>> flagOverrides)
    {
        JsonObject root = ParseRoot(json, sourceName);
        var origins = new Dictionary<JsonNode, string>(ReferenceEqualityComparer.Instance);

        foreach (var (name, value) in environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!name.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase) || name.Length == EnvPrefix.Length
                || ReservedVariables.Contains(name))
                continue;
            string[] segments = name[EnvPrefix.Length..].Split("__");
            Apply(root, segments, EnvValue(value, name), name, origins);
        }
        foreach (var (keyPath, value) in flagOverrides)
            Apply(root, keyPath.Split('.'), JsonValue.Create(value), keyPath, origins);

        return new ConfigWalker(origins).Walk(root);
    }

    static JsonObject ParseRoot(string? json, string sourceName)
    {
        if (string.IsNullOrWhiteSpace(json))
            return new JsonObject();
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $"line {line + 1}: " : "";
            throw new ConfigException(sourceName, $"{where}invalid JSON ({FirstSentence(e.Message)})");
        }
        catch (ArgumentException e)
        {
            // JsonObject reports a repeated property name this way.
            throw new ConfigException(sourceName, $"invalid JSON ({e.Message})");
        }
        if (node is not JsonObject obj)
            throw new ConfigException(sourceName, "the top level must be a JSON object");
        try
        {
            // JsonObject builds its dictionary lazily; touching every object now turns a duplicate key into a
            // config error here rather than an ArgumentException in the walker.
            TouchAll(obj);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(sourceName, $"invalid JSON ({e.Message})");
        }
        return obj;
    }

    static void TouchAll(JsonNode? node)
    {
        if (node is JsonObject o)
            foreach (var kv in o) TouchAll(kv.Value);
        else if (node is JsonArray a)
            foreach (var item in a) TouchAll(item);
    }

    static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message.TrimEnd('.');
    }

    /// <summary>
    /// Environment values are strings, except a value starting with '{' or '[' which is parsed as JSON so a whole
    /// object or list can be given (NFSGATE_EXPORTS='[{"name":"a","path":"/a"}]'). The walker accepts strings for
    /// numbers and booleans when they come from the environment.
    /// </summary>
    static JsonNode EnvValue(string value, string name)
    {
        string trimmed = value.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                return JsonNode.Parse(value, documentOptions: DocumentOptions)!;
            }
            catch (JsonException e)
            {
                throw new ConfigException(name, $"invalid JSON ({FirstSentence(e.Message)})");
            }
        }
        return JsonValue.Create(value);
    }

    /// <summary>Sets the value at <paramref name="segments"/>, creating objects on the way; segments match existing or known keys case-insensitively.</summary>
    static void Apply(JsonObject root, string[] segments, JsonNode value, string origin, Dictionary<JsonNode, string> origins)
    {
        JsonNode current = root;
        string path = "";
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            if (segment.Length == 0)
                throw new ConfigException(origin, "empty key segment");
            if (current is JsonArray array)
            {
                if (!int.TryParse(segment, out int index) || index < 0 || index > array.Count)
                    throw new ConfigException(origin, $"{path}: index {segment} is not an existing position or the next one ({array.Count})");
                path += $"[{index}]";
                if (index == array.Count)
                    array.Add(last ? null : NewContainer(segments[i + 1]));
                if (last)
                {
                    array[index] = value;
                    MarkOrigin(value, origin, origins);
                    return;
                }
                array[index] ??= NewContainer(segments[i + 1]);
                current = array[index]!;
            }
            else if (current is JsonObject obj)
            {
                string key = CanonicalKey(obj, segment);
                path = path.Length == 0 ? key : $"{path}.{key}";
                if (last)
                {
                    obj[key] = value;
                    MarkOrigin(value, origin, origins);
                    return;
                }
                if (obj[key] is not (JsonObject or JsonArray))
                    obj[key] = NewContainer(segments[i + 1]);
                current = obj[key]!;
            }
            else
                throw new ConfigException(origin, $"{path}: is not an object or a list");
        }
    }

    static JsonNode NewContainer(string nextSegment) =>
        int.TryParse(nextSegment, out _) ? new JsonArray() : new JsonObject();

    static void MarkOrigin(JsonNode node, string origin, Dictionary<JsonNode, string> origins)
    {
        origins[node] = origin;
        if (node is JsonObject o)
            foreach (var kv in o) if (kv.Value is not null) MarkOrigin(kv.Value, origin, origins);
        if (node is JsonArray a)
            foreach (var item in a) if (item is not null) MarkOrigin(item, origin, origins);
    }

    /// <summary>An existing key of the object, else a known key of the schema, that matches case-insensitively; else the segment in lower case (the walker then reports it as unknown).</summary>
    static string CanonicalKey(JsonObject obj, string segment)
    {
        foreach (var kv in obj)
            if (kv.Key.Equals(segment, StringComparison.OrdinalIgnoreCase))
                return kv.Key;
        foreach (string known in ConfigWalker.AllKeyNames)
            if (known.Equals(segment, StringComparison.OrdinalIgnoreCase))
                return known;
        return segment.ToLowerInvariant();
    }

    static Dictionary<string, string> ProcessEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string k && e.Value is string v && k.StartsWith(EnvPrefix, StringComparison.OrdinalIgnoreCase))
                result[k] = v;
        return result;
    }
}
