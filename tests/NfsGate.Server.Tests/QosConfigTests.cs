using System.Text.Json.Nodes;
using NfsGate.Protocol.Qos;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>exports[].qos in the config, its JSON round trip, and the <c>nfsgate qos</c> command line.</summary>
public sealed class QosConfigTests
{
    const long MiB = 1 << 20;

    static GatewayConfig Load(string json, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(json, "test.json", env ?? new Dictionary<string, string>(), []);

    [Fact]
    public void The_issue_example_parses()
    {
        var c = Load("""
            { "exports": [ { "name": "team-a", "path": "/a", "qos": { "read": "200MiB/s", "write": "100MiB/s", "iops": 5000, "burst": "2s",
              "maxDelay": "3s", "clients": [{ "match": "10.1.2.0/24", "read": "50MiB/s" }, { "match": "*", "iops": 10, "burst": "500ms" }] } },
              { "name": "team-b", "path": "/b" } ] }
            """);
        var q = c.Exports[0].Qos!;
        Assert.Equal(200 * MiB, q.Export.ReadBytesPerSecond);
        Assert.Equal(100 * MiB, q.Export.WriteBytesPerSecond);
        Assert.Equal(5000, q.Export.OpsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2), q.Export.Burst);
        Assert.Equal(TimeSpan.FromSeconds(3), q.MaxDelay);
        Assert.Equal(2, q.Clients.Count);
        Assert.Equal("10.1.2.0/24", q.Clients[0].Match);
        Assert.Equal(50 * MiB, q.Clients[0].Rates.ReadBytesPerSecond);
        Assert.Null(q.Clients[0].Rates.WriteBytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2), q.BurstOf(q.Clients[0].Rates)); // inherited from the export
        Assert.Equal(TimeSpan.FromMilliseconds(500), q.BurstOf(q.Clients[1].Rates));
        Assert.Null(c.Exports[1].Qos);
    }

    [Fact]
    public void Absent_keys_mean_no_cap_and_the_defaults()
    {
        var q = Load("""{ "exports": [ { "name": "a", "path": "/", "qos": { "write": 1048576 } } ] }""").Exports[0].Qos!;
        Assert.Equal(MiB, q.Export.WriteBytesPerSecond);
        Assert.Null(q.Export.ReadBytesPerSecond);
        Assert.Null(q.Export.OpsPerSecond);
        Assert.Empty(q.Clients);
        Assert.Equal(QosPolicy.DefaultBurst, q.BurstOf(q.Export));
        Assert.Equal(QosPolicy.DefaultMaxDelay, q.EffectiveMaxDelay);
        Assert.True(Load("""{ "exports": [ { "name": "a", "path": "/", "qos": {} } ] }""").Exports[0].Qos!.IsEmpty);
    }

    [Theory]
    [InlineData("""{ "raed": "1MiB/s" }""", "exports[0].qos.raed", "unknown key")]
    [InlineData("""{ "read": "200MB/s" }""", "exports[0].qos.read", "expected a rate")]
    [InlineData("""{ "read": "200MiB" }""", "exports[0].qos.read", "expected a rate")]
    [InlineData("""{ "read": "0MiB/s" }""", "exports[0].qos.read", "above zero")]
    [InlineData("""{ "write": -5 }""", "exports[0].qos.write", "expected a rate")]
    [InlineData("""{ "iops": "5000" }""", "exports[0].qos.iops", "whole number")]
    [InlineData("""{ "iops": 0 }""", "exports[0].qos.iops", "whole number")]
    [InlineData("""{ "iops": 2.5 }""", "exports[0].qos.iops", "whole number")]
    [InlineData("""{ "burst": "2" }""", "exports[0].qos.burst", "expected a duration")]
    [InlineData("""{ "burst": "1h" }""", "exports[0].qos.burst", "at most 10m")]
    [InlineData("""{ "maxDelay": "90s" }""", "exports[0].qos.maxDelay", "at most 30s")]
    [InlineData("""{ "clients": {} }""", "exports[0].qos.clients", "expected a list")]
    [InlineData("""{ "clients": [ { "read": "1MiB/s" } ] }""", "exports[0].qos.clients[0].match", "missing")]
    [InlineData("""{ "clients": [ { "match": "10.1.2.0/33" } ] }""", "exports[0].qos.clients[0].match", "expected a CIDR")]
    [InlineData("""{ "clients": [ { "match": "*", "maxDelay": "1s" } ] }""", "exports[0].qos.clients[0].maxDelay", "unknown key")]
    [InlineData("""{ "clients": [ { "match": "*" }, { "match": "*", "write": "fast" } ] }""", "exports[0].qos.clients[1].write", "expected a rate")]
    [InlineData("\"200MiB/s\"", "exports[0].qos", "expected an object")]
    public void Mistakes_stop_loading_and_name_the_key(string qos, string key, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => Load($$"""{ "exports": [ { "name": "a", "path": "/", "qos": {{qos}} } ] }"""));
        Assert.Equal(key, e.KeyPath);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void An_environment_override_sets_a_qos_key()
    {
        var c = Load("""{ "exports": [ { "name": "a", "path": "/", "qos": { "read": "1MiB/s" } } ] }""",
            new Dictionary<string, string> { ["NFSGATE_EXPORTS__0__QOS__IOPS"] = "300", ["NFSGATE_EXPORTS__0__QOS__MAXDELAY"] = "5s" });
        Assert.Equal(300, c.Exports[0].Qos!.Export.OpsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), c.Exports[0].Qos!.MaxDelay);
    }

    [Fact]
    public void The_json_form_reads_back_to_the_same_policy()
    {
        var json = """{ "read": "1536KiB/s", "write": "3GiB/s", "iops": 7, "burst": "1m30s", "maxDelay": "250ms", "clients": [ { "match": "fd00::/8", "write": "4096/s" } ] }""";
        var p = QosConfigReader.Parse(JsonNode.Parse(json)!, "qos");
        var again = QosConfigReader.Parse(QosConfigReader.ToJson(p), "qos");
        Assert.Equal(QosConfigReader.ToJson(p).ToJsonString(), QosConfigReader.ToJson(again).ToJsonString());
        Assert.Equal(1536 * 1024, again.Export.ReadBytesPerSecond);
        Assert.Equal(3L << 30, again.Export.WriteBytesPerSecond);
        Assert.Equal(4096, again.Clients[0].Rates.WriteBytesPerSecond);
        Assert.Equal("4KiB/s", QosConfigReader.ToJson(again)["clients"]![0]!["write"]!.GetValue<string>());
    }

    [Fact]
    public void Qos_set_parses_caps_client_and_off()
    {
        var c = CommandLine.Parse(["qos", "set", "--export", "team-a", "--read", "200MiB/s", "--write=100MiB", "--iops", "5000", "--burst", "2s",
            "--client", "10.1.2.0/24", "--http", "127.0.0.1:9200"]);
        Assert.Equal(CommandKind.Qos, c.Kind);
        var q = c.Qos!;
        Assert.Equal(QosAction.Set, q.Action);
        Assert.Equal("team-a", q.Export);
        Assert.Equal("10.1.2.0/24", q.Client);
        Assert.Equal("200MiB/s", q.Changes["read"]);
        Assert.Equal("100MiB/s", q.Changes["write"]);
        Assert.Equal("5000", q.Changes["iops"]);
        Assert.Equal("2s", q.Changes["burst"]);
        Assert.Contains(new KeyValuePair<string, string>("http", "127.0.0.1:9200"), c.Overrides);
        var off = CommandLine.Parse(["qos", "set", "--export", "a", "--read", "off", "--max-delay", "5s"]).Qos!;
        Assert.Null(off.Changes["read"]);
        Assert.Equal("5s", off.Changes["maxDelay"]);
        Assert.Equal(QosAction.Show, CommandLine.Parse(["qos", "show"]).Qos!.Action);
        Assert.Equal(QosAction.Reset, CommandLine.Parse(["qos", "reset", "--export", "a"]).Qos!.Action);
    }

    [Theory]
    [InlineData("qos")]
    [InlineData("qos limit --export a")]
    [InlineData("qos set --read 1MiB/s")]
    [InlineData("qos set --export a")]
    [InlineData("qos set --export a --read fast")]
    [InlineData("qos set --export a --read 10MB/s")]
    [InlineData("qos set --export a --iops -1")]
    [InlineData("qos set --export a --burst 2")]
    [InlineData("qos set --export a --client 10.0.0.0/40 --read 1MiB/s")]
    [InlineData("qos set --export a --client 10.0.0.0/8 --max-delay 1s")]
    [InlineData("qos show --read 1MiB/s")]
    [InlineData("qos reset")]
    [InlineData("qos set --export a --read")]
    public void Qos_command_line_mistakes_are_usage_errors(string line) =>
        Assert.Throws<UsageException>(() => CommandLine.Parse(line.Split(' ')));

    [Fact]
    public void Qos_set_changes_only_what_was_given_and_drops_an_emptied_client_rule()
    {
        var current = JsonNode.Parse("""{ "read": "1MiB/s", "write": "2MiB/s", "clients": [ { "match": "10.0.0.0/8", "read": "5MiB/s" } ] }""")!.AsObject();
        var top = QosCommand.Apply(current.DeepClone().AsObject(), new QosRequest(QosAction.Set, "a", null, new Dictionary<string, string?> { ["read"] = null, ["iops"] = "9" }));
        Assert.Equal("""{"write":"2MiB/s","clients":[{"match":"10.0.0.0/8","read":"5MiB/s"}],"iops":9}""", top.ToJsonString());
        var added = QosCommand.Apply(current.DeepClone().AsObject(), new QosRequest(QosAction.Set, "a", "10.9.0.0/16", new Dictionary<string, string?> { ["write"] = "1MiB/s" }));
        Assert.Equal("1MiB/s", added["clients"]![1]!["write"]!.GetValue<string>());
        var emptied = QosCommand.Apply(current.DeepClone().AsObject(), new QosRequest(QosAction.Set, "a", "10.0.0.0/8", new Dictionary<string, string?> { ["read"] = null }));
        Assert.Null(emptied["clients"]);
    }
}
