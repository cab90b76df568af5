using NfsGate.Metadata;
using NfsGate.Protocol;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>exports[].clients / quota / trash in the config file and the environment.</summary>
public class ExportConfigTests
{
    static GatewayConfig Parse(string exportJson, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse($$"""{ "exports": [ {{exportJson}} ] }""", "(test)", env ?? [], []);

    static string ErrorOf(string exportJson) => Assert.Throws<ConfigException>(() => Parse(exportJson)).Message;

    [Fact]
    public void Rules_quota_and_trash_are_read_in_order()
    {
        var e = Parse("""
            { "name": "a", "path": "/a",
              "clients": [
                { "match": "10.1.0.0/16", "access": "rw", "squash": "root", "anonUid": 1001, "anonGid": 1002 },
                { "match": "10.2.0.7", "access": "ro", "squash": "all", "requirePrivilegedPort": true },
                { "match": "*", "access": "none" } ],
              "quota": { "bytes": "10GiB", "inodes": 1000 },
              "trash": { "retention": "7d" } }
            """).Exports[0];
        Assert.Equal(3, e.Clients!.Count);
        Assert.Equal(("10.1.0.0/16", ExportAccess.ReadWrite, SquashMode.Root, 1001u, 1002u, false),
            (e.Clients[0].Match, e.Clients[0].Access, e.Clients[0].Squash, e.Clients[0].AnonUid, e.Clients[0].AnonGid, e.Clients[0].RequirePrivilegedPort));
        Assert.Equal((ExportAccess.ReadOnly, SquashMode.All, true), (e.Clients[1].Access, e.Clients[1].Squash, e.Clients[1].RequirePrivilegedPort));
        Assert.Equal(ExportAccess.None, e.Clients[2].Access);
        Assert.Equal(new VolumeQuota(10UL << 30, 1000), e.Quota);
        Assert.Equal(TimeSpan.FromDays(7), e.TrashRetention);
    }

    [Fact]
    public void Rule_defaults_are_rw_root_squash_to_nobody_and_no_clients_means_open()
    {
        var e = Parse("""{ "name": "a", "path": "/a", "clients": [ { "match": "*" } ] }""").Exports[0];
        var r = Assert.Single(e.Clients!);
        Assert.Equal((ExportAccess.ReadWrite, SquashMode.Root, 65534u, 65534u), (r.Access, r.Squash, r.AnonUid, r.AnonGid));
        var open = Parse("""{ "name": "a", "path": "/a" }""").Exports[0];
        Assert.Null(open.Clients);
        Assert.Equal(VolumeQuota.None, open.Quota);
        Assert.Equal(TimeSpan.Zero, open.TrashRetention);
        Assert.Empty(Parse("""{ "name": "a", "path": "/a", "clients": [] }""").Exports[0].Clients!);
    }

    [Theory]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "10.1.2.3/16" } ] }""", "exports[0].clients[0].match")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "somehost" } ] }""", "exports[0].clients[0].match")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "access": "rw" } ] }""", "exports[0].clients[0].match")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "*", "access": "write" } ] }""", "exports[0].clients[0].access")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "*", "squash": "yes" } ] }""", "exports[0].clients[0].squash")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "*", "anonUid": -1 } ] }""", "exports[0].clients[0].anonUid")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": [ { "match": "*", "root_squash": true } ] }""", "exports[0].clients[0].root_squash")]
    [InlineData("""{ "name": "a", "path": "/a", "clients": { "match": "*" } }""", "exports[0].clients")]
    [InlineData("""{ "name": "a", "path": "/a", "quota": { "bytes": "lots" } }""", "exports[0].quota.bytes")]
    [InlineData("""{ "name": "a", "path": "/a", "quota": { "files": 3 } }""", "exports[0].quota.files")]
    [InlineData("""{ "name": "a", "path": "/a", "trash": { "retention": "forever" } }""", "exports[0].trash.retention")]
    [InlineData("""{ "name": "a", "path": "/a", "trash": { "retention": "400d" } }""", "exports[0].trash.retention")]
    public void Bad_values_name_their_key(string export, string key)
    {
        Assert.Contains(key, ErrorOf(export));
    }

    [Fact]
    public void Environment_can_set_rules_and_quota()
    {
        var env = new Dictionary<string, string>
        {
            ["NFSGATE_EXPORTS__0__CLIENTS"] = """[{"match":"127.0.0.0/8","access":"ro"}]""",
            ["NFSGATE_EXPORTS__0__QUOTA__INODES"] = "50",
        };
        var e = Parse("""{ "name": "a", "path": "/a", "quota": { "bytes": 100 } }""", env).Exports[0];
        Assert.Equal(ExportAccess.ReadOnly, Assert.Single(e.Clients!).Access);
        Assert.Equal(new VolumeQuota(100, 50), e.Quota);
    }

    [Theory]
    [InlineData("7d", 7 * 86400)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("30m", 1800)]
    [InlineData("90s", 90)]
    [InlineData("off", 0)]
    public void Retention_round_trips(string text, int seconds)
    {
        Assert.True(ConfigWalker.TryParseRetention(text, out var t));
        Assert.Equal(TimeSpan.FromSeconds(seconds), t);
        Assert.True(ConfigWalker.TryParseRetention(ConfigWalker.FormatRetention(t), out var again));
        Assert.Equal(t, again);
    }
}
