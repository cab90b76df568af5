using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>`nfsgate check-config` prints <see cref="ConfigPrinter.ToJson"/>: every section a file can set must show.</summary>
public class ConfigPrinterTests
{
    static readonly Dictionary<string, string> NoEnv = [];

    /// <summary>Every section with values other than the defaults, so a section the printer drops cannot go unseen.</summary>
    const string Sections = """
        {
          "listen": "127.0.0.1:12049", "portmapper": "off", "http": "off", "dataDir": "/var/lib/nfsgate",
          "metadata": { "engine": "memory", "path": "/meta/here" },
          "objectStore": { "type": "local", "path": "/objects/here" },
          "cache": { "enabled": false, "path": "/cache/here", "size": "2GiB", "minFreeRatio": 0.25 },
          "exports": [
            { "name": "default", "path": "/", "readOnly": false },
            { "name": "team", "path": "/team", "readOnly": true,
              "clients": [{ "match": "10.1.0.0/16", "access": "ro", "squash": "all", "anonUid": 1000, "anonGid": 1001, "requirePrivilegedPort": true }],
              "quota": { "bytes": "10GiB", "inodes": 5000 },
              "trash": { "retention": "7d" },
              "storageClass": "STANDARD_IA",
              "qos": { "read": "200MiB/s", "iops": 5000, "maxDelay": "2s", "clients": [{ "match": "10.1.2.0/24", "write": "50MiB/s" }] } },
          ],
          "log": { "level": "debug", "format": "json", "file": "/var/log/nfsgate.log", "slowOperation": "250ms" },
          "writes": { "commitMode": "writeback", "stagingPath": "/ssd/staging", "stagingSize": "8GiB", "stagingDrainTimeout": "45s", "compactUploadConcurrency": 4 },
          "proxyProtocol": { "trustedSources": ["10.0.5.0/28", "10.0.6.7"] },
        }
        """;

    static JsonNode Print(string config) => JsonNode.Parse(ConfigPrinter.ToJson(ConfigLoader.Parse(config, "(test)", NoEnv, [])))!;

    /// <summary>"a.b", "exports[1].qos.clients[0].write", ... for every leaf key of <paramref name="node"/>.</summary>
    static IEnumerable<string> KeyPaths(JsonNode? node, string at) => node switch
    {
        JsonObject o => o.SelectMany(kv => KeyPaths(kv.Value, at.Length == 0 ? kv.Key : $"{at}.{kv.Key}")),
        JsonArray a => a.SelectMany((item, i) => KeyPaths(item, $"{at}[{i}]")),
        _ => [at],
    };

    static JsonNode? At(JsonNode root, string path)
    {
        JsonNode? n = root;
        foreach (string part in path.Split('.'))
        {
            int bracket = part.IndexOf('[');
            string key = bracket < 0 ? part : part[..bracket];
            n = n is JsonObject o && o.TryGetPropertyValue(key, out var child) ? child : null;
            for (int b = bracket; b >= 0 && n is not null; b = part.IndexOf('[', b + 1))
            {
                int index = int.Parse(part[(b + 1)..part.IndexOf(']', b)]);
                n = n is JsonArray arr && index < arr.Count ? arr[index] : null;
            }
            if (n is null) return null;
        }
        return n;
    }

    [Fact]
    public void Every_key_of_the_file_is_printed()
    {
        var printed = Print(Sections);
        var missing = KeyPaths(JsonNode.Parse(Sections, documentOptions: new JsonDocumentOptions
            { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }), "")
            .Where(path => At(printed, path) is null).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Writes_proxy_protocol_and_qos_print_their_values()
    {
        var printed = Print(Sections);
        Assert.Equal("writeback", (string?)printed["writes"]!["commitMode"]);
        Assert.Equal("/ssd/staging", (string?)printed["writes"]!["stagingPath"]);
        Assert.Equal("8GiB", (string?)printed["writes"]!["stagingSize"]);
        Assert.Equal(["10.0.5.0/28", "10.0.6.7/32"], printed["proxyProtocol"]!["trustedSources"]!.AsArray().Select(n => (string?)n));
        var qos = printed["exports"]![1]!["qos"]!;
        Assert.Equal("200MiB/s", (string?)qos["read"]);
        Assert.Equal(5000, (long)qos["iops"]!);
        Assert.Equal("2s", (string?)qos["maxDelay"]);
        Assert.Equal("50MiB/s", (string?)qos["clients"]![0]!["write"]);
        Assert.Null(printed["exports"]![0]!["qos"]);
    }

    [Fact]
    public void Defaults_show_the_writes_and_proxy_protocol_sections()
    {
        var printed = JsonNode.Parse(ConfigPrinter.ToJson(ConfigLoader.Parse(null, "(test)", NoEnv, [])))!;
        Assert.Equal("strict", (string?)printed["writes"]!["commitMode"]);
        Assert.Equal("4GiB", (string?)printed["writes"]!["stagingSize"]);
        Assert.Empty(printed["proxyProtocol"]!["trustedSources"]!.AsArray());
    }

    [Fact]
    public void The_printed_sections_parse_back_to_the_same_config()
    {
        string printed = ConfigPrinter.ToJson(ConfigLoader.Parse(Sections, "(test)", NoEnv, []));
        var again = ConfigLoader.Parse(printed, "(printed)", NoEnv, []);
        Assert.Equal(printed, ConfigPrinter.ToJson(again));
        Assert.Equal(NfsGate.FileSystem.CommitMode.Writeback, again.Writes.CommitMode);
        Assert.Equal(2, again.ProxyProtocol.TrustedSources.Count);
        Assert.Equal(5000, again.Exports[1].Qos!.Export.OpsPerSecond);
        Assert.Equal(TimeSpan.FromDays(7), again.Exports[1].TrashRetention);
    }
}
