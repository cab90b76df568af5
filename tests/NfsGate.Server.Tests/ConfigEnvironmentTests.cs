using System.Net;
using NfsGate.Server.Config;
using Serilog.Events;

namespace NfsGate.Server.Tests;

public class ConfigEnvironmentTests
{
    static GatewayConfig Parse(string? json, params (string Name, string Value)[] env) =>
        ConfigLoader.Parse(json, "(test)", env.ToDictionary(e => e.Name, e => e.Value), []);

    [Fact]
    public void Top_level_keys_are_overridden()
    {
        var c = Parse("""{ "listen": "0.0.0.0:2049", "http": "127.0.0.1:9109" }""",
            ("NFSGATE_LISTEN", "127.0.0.1:3049"), ("NFSGATE_PORTMAPPER", "off"), ("NFSGATE_HTTP", "off"), ("NFSGATE_DATADIR", "/env/data"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 3049), c.Listen);
        Assert.Null(c.Portmapper);
        Assert.Null(c.Http);
        Assert.Equal("/env/data", c.DataDir);
        Assert.Equal("/env/data/objects", c.ObjectStore.Path);
    }

    [Fact]
    public void Nested_keys_use_a_double_underscore()
    {
        var c = Parse("""{ "cache": { "size": "1GiB" } }""",
            ("NFSGATE_METADATA__PATH", "/env/meta"), ("NFSGATE_CACHE__SIZE", "10GiB"), ("NFSGATE_LOG__LEVEL", "warning"),
            ("NFSGATE_METADATA__ENGINE", "memory"));
        Assert.Equal(new MetadataConfig(MetadataEngine.Memory, "/env/meta"), c.Metadata);
        Assert.Equal(10L << 30, c.Cache.SizeBytes);
        Assert.Equal(LogEventLevel.Warning, c.Log.Level);
    }

    [Fact]
    public void List_items_are_addressed_by_index_and_booleans_come_as_strings()
    {
        var c = Parse("""{ "exports": [ { "name": "a", "path": "/a" } ] }""",
            ("NFSGATE_EXPORTS__0__READONLY", "true"), ("NFSGATE_EXPORTS__1__NAME", "b"), ("NFSGATE_EXPORTS__1__PATH", "/b"));
        Assert.Equal([new ExportConfig("a", "/a", true), new ExportConfig("b", "/b", false)], c.Exports);
    }

    [Fact]
    public void A_whole_list_may_be_given_as_json()
    {
        var c = Parse(null, ("NFSGATE_EXPORTS", """[{"name":"x","path":"/x","readOnly":true}]"""));
        Assert.Equal([new ExportConfig("x", "/x", true)], c.Exports);
    }

    [Fact]
    public void An_unknown_variable_is_an_error_naming_the_key_and_the_variable()
    {
        var e = Assert.Throws<ConfigException>(() => Parse(null, ("NFSGATE_CACHE__SIZZE", "1GiB")));
        Assert.Equal("cache.sizze", e.KeyPath);
        Assert.Contains("unknown key", e.Problem);
        Assert.Contains("NFSGATE_CACHE__SIZZE", e.Problem);
    }

    [Fact]
    public void A_bad_value_from_the_environment_names_the_variable()
    {
        var e = Assert.Throws<ConfigException>(() => Parse(null, ("NFSGATE_LISTEN", "nowhere")));
        Assert.Equal("listen", e.KeyPath);
        Assert.Contains("(from NFSGATE_LISTEN)", e.Problem);
    }

    [Fact]
    public void A_list_index_past_the_end_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => Parse("""{ "exports": [ { "name": "a", "path": "/a" } ] }""",
            ("NFSGATE_EXPORTS__5__NAME", "z")));
        Assert.Equal("NFSGATE_EXPORTS__5__NAME", e.KeyPath);
    }

    [Fact]
    public void Other_variables_are_not_read()
    {
        var c = Parse(null, ("LISTEN", "127.0.0.1:1"), ("NFS_LISTEN", "127.0.0.1:1"));
        Assert.Equal(2049, c.Listen.Port);
    }

    [Fact]
    public void The_test_suite_switch_is_not_a_config_key()
    {
        var c = Parse(null, ("NFSGATE_SKIP_S3", "1"));
        Assert.Equal(2049, c.Listen.Port);
    }

    [Fact]
    public void Flags_win_over_the_environment()
    {
        var c = ConfigLoader.Parse(null, "(test)", new Dictionary<string, string> { ["NFSGATE_LISTEN"] = "127.0.0.1:1" },
            [new("listen", "127.0.0.1:2")]);
        Assert.Equal(2, c.Listen.Port);
    }
}
