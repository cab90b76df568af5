using System.Net;
using NfsGate.Server.Config;
using Serilog.Events;

namespace NfsGate.Server.Tests;

public class ConfigParsingTests
{
    public const string FullConfig = """
        // every key, with comments and trailing commas
        {
          "listen": "127.0.0.1:12049",
          "portmapper": "off", /* no rpcbind */
          "http": "[::1]:9200",
          "dataDir": "/var/lib/nfsgate",
          "metadata": { "engine": "memory", "path": "/meta/here", },
          "objectStore": { "type": "local", "path": "/objects/here" },
          "cache": { "path": "/cache/here", "size": "1.5TiB" },
          "exports": [
            { "name": "default", "path": "/", "readOnly": false },
            { "name": "archive", "path": "/archive", "readOnly": true, },
          ],
          "log": { "level": "debug", "format": "json", "file": "/var/log/nfsgate.log" },
        }
        """;

    [Fact]
    public void Every_key_is_parsed()
    {
        var c = ConfigLoader.Parse(FullConfig, "(test)", new Dictionary<string, string>(), []);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 12049), c.Listen);
        Assert.Null(c.Portmapper);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9200), c.Http);
        Assert.Equal("/var/lib/nfsgate", c.DataDir);
        Assert.Equal(new MetadataConfig(MetadataEngine.Memory, "/meta/here"), c.Metadata);
        Assert.Equal(new ObjectStoreConfig(ObjectStoreType.Local, "/objects/here"), c.ObjectStore);
        Assert.Equal(new CacheConfig("/cache/here", (long)(1.5 * (1L << 40))), c.Cache);
        Assert.Equal([new ExportConfig("default", "/", false), new ExportConfig("archive", "/archive", true)], c.Exports);
        Assert.Equal(new LogConfig(LogEventLevel.Debug, LogFormat.Json, "/var/log/nfsgate.log"), c.Log);
    }

    [Fact]
    public void Size_may_be_a_plain_number_of_bytes()
    {
        var c = ConfigLoader.Parse("""{ "cache": { "size": 4096 } }""", "(test)", new Dictionary<string, string>(), []);
        Assert.Equal(4096, c.Cache.SizeBytes);
    }

    [Fact]
    public void Flags_win_over_the_file()
    {
        var c = ConfigLoader.Parse("""{ "listen": "127.0.0.1:1", "dataDir": "/a" }""", "(test)", new Dictionary<string, string>(),
            [new("listen", "127.0.0.2:2"), new("dataDir", "/b")]);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 2), c.Listen);
        Assert.Equal("/b/meta", c.Metadata.Path);
    }

    [Fact]
    public void Config_file_is_read_from_disk()
    {
        string file = Path.Combine(Path.GetTempPath(), $"nfsgate-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "listen": "127.0.0.1:3049" }""");
        try
        {
            var c = ConfigLoader.Load(file, new Dictionary<string, string>());
            Assert.Equal(3049, c.Listen.Port);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_missing_config_file_is_an_error_naming_the_file()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/nfsgate.json", new Dictionary<string, string>()));
        Assert.StartsWith("config error: /nonexistent/nfsgate.json: cannot read", e.Message);
    }
}
