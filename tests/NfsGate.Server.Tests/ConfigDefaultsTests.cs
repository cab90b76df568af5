using System.Net;
using NfsGate.Server.Config;
using Serilog.Events;

namespace NfsGate.Server.Tests;

public class ConfigDefaultsTests
{
    static readonly Dictionary<string, string> NoEnv = [];

    [Fact]
    public void No_file_gives_the_documented_defaults()
    {
        var c = ConfigLoader.Parse(null, "(test)", NoEnv, []);
        string dataDir = Path.GetFullPath("./nfsgate-data");
        Assert.Equal(new IPEndPoint(IPAddress.Any, 2049), c.Listen);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 111), c.Portmapper);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9109), c.Http);
        Assert.Equal(dataDir, c.DataDir);
        Assert.Equal(new MetadataConfig(MetadataEngine.RocksDb, Path.Combine(dataDir, "meta")), c.Metadata);
        Assert.Equal(ObjectStoreType.Local, c.ObjectStore.Type);
        Assert.Equal(Path.Combine(dataDir, "objects"), c.ObjectStore.Path);
        Assert.Equal(new CacheConfig(Path.Combine(dataDir, "cache"), 1L << 30), c.Cache);
        Assert.Equal([new ExportConfig("default", "/", false)], c.Exports);
        Assert.Equal(new LogConfig(LogEventLevel.Information, LogFormat.Text, null), c.Log);
    }

    [Fact]
    public void An_empty_object_is_the_same_as_no_file()
    {
        var a = ConfigLoader.Parse(null, "(test)", NoEnv, []);
        var b = ConfigLoader.Parse("{ }", "(test)", NoEnv, []);
        Assert.Equal(ConfigPrinter.ToJson(a), ConfigPrinter.ToJson(b));
    }

    [Fact]
    public void Data_dir_moves_every_derived_path()
    {
        var c = ConfigLoader.Parse("""{ "dataDir": "/srv/gw" }""", "(test)", NoEnv, []);
        Assert.Equal("/srv/gw/meta", c.Metadata.Path);
        Assert.Equal("/srv/gw/objects", c.ObjectStore.Path);
        Assert.Equal("/srv/gw/cache", c.Cache.Path);
    }

    [Fact]
    public void Printed_config_parses_back_to_the_same_config()
    {
        var c = ConfigLoader.Parse(ConfigParsingTests.FullConfig, "(test)", NoEnv, []);
        string printed = ConfigPrinter.ToJson(c);
        var again = ConfigLoader.Parse(printed, "(printed)", NoEnv, []);
        Assert.Equal(printed, ConfigPrinter.ToJson(again));
    }
}
