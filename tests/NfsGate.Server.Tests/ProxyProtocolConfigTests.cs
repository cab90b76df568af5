using System.Net;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

public class ProxyProtocolConfigTests
{
    static GatewayConfig Parse(string json, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(json, "test.json", env ?? [], []);

    static ConfigException Fails(string json, Dictionary<string, string>? env = null) =>
        Assert.Throws<ConfigException>(() => Parse(json, env));

    [Fact]
    public void Off_unless_configured()
    {
        Assert.Empty(Parse("{}").ProxyProtocol.TrustedSources);
        Assert.Empty(Parse("""{ "proxyProtocol": {} }""").ProxyProtocol.TrustedSources);
        Assert.Empty(Parse("""{ "proxyProtocol": { "trustedSources": [] } }""").ProxyProtocol.TrustedSources);
    }

    [Fact]
    public void Cidrs_and_single_addresses_of_both_families()
    {
        var c = Parse("""{ "proxyProtocol": { "trustedSources": ["10.0.5.0/28", "127.0.0.9", "fd00::/8", "::1"] } }""");
        Assert.Equal(
            [IPNetwork.Parse("10.0.5.0/28"), IPNetwork.Parse("127.0.0.9/32"), IPNetwork.Parse("fd00::/8"), IPNetwork.Parse("::1/128")],
            c.ProxyProtocol.TrustedSources);
    }

    [Theory]
    [InlineData("""{ "proxyProtocol": { "trustedSources": ["10.0.5.1/28"] } }""", "proxyProtocol.trustedSources", "no host bits")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": ["*"] } }""", "proxyProtocol.trustedSources", "CIDR")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": ["0.0.0.0/0"] } }""", "proxyProtocol.trustedSources", "CIDR")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": ["10.0.0.0/33"] } }""", "proxyProtocol.trustedSources", "CIDR")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": ["haproxy.local"] } }""", "proxyProtocol.trustedSources", "\"haproxy.local\"")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": [5] } }""", "proxyProtocol.trustedSources", "expected CIDR strings")]
    [InlineData("""{ "proxyProtocol": { "trustedSources": "10.0.0.0/8" } }""", "proxyProtocol.trustedSources", "expected a list")]
    [InlineData("""{ "proxyProtocol": { "trusted": ["10.0.0.0/8"] } }""", "proxyProtocol.trusted", "unknown key")]
    [InlineData("""{ "proxyProtocol": true }""", "proxyProtocol", "expected an object")]
    public void Mistakes_name_the_key(string json, string keyPath, string problem)
    {
        var e = Fails(json);
        Assert.Equal(keyPath, e.KeyPath);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void Too_many_entries_are_refused()
    {
        string list = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"\"10.0.{i}.0/24\""));
        Assert.Contains("at most 64", Fails($$"""{ "proxyProtocol": { "trustedSources": [{{list}}] } }""").Problem);
    }

    [Fact]
    public void Environment_sets_the_list_as_json_or_comma_separated()
    {
        var json = Parse("{}", new() { ["NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES"] = """["127.0.0.9/32"]""" });
        Assert.Equal([IPNetwork.Parse("127.0.0.9/32")], json.ProxyProtocol.TrustedSources);
        var plain = Parse("{}", new() { ["NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES"] = "10.0.5.0/28, 10.0.6.7" });
        Assert.Equal([IPNetwork.Parse("10.0.5.0/28"), IPNetwork.Parse("10.0.6.7/32")], plain.ProxyProtocol.TrustedSources);
        var indexed = Parse("""{ "proxyProtocol": { "trustedSources": ["10.0.5.0/28"] } }""", new() { ["NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES__1"] = "10.0.6.0/24" });
        Assert.Equal(2, indexed.ProxyProtocol.TrustedSources.Count);
        var e = Fails("{}", new() { ["NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES"] = "10.0.5.0/28,bogus" });
        Assert.Equal("proxyProtocol.trustedSources", e.KeyPath);
        Assert.Contains("NFSGATE_PROXYPROTOCOL__TRUSTEDSOURCES", e.Problem);
    }

    [Fact]
    public void A_plain_string_in_the_file_is_not_taken_as_a_list()
    {
        // Only the environment has no lists; in a file "a, b" is more likely a quoting slip.
        Assert.Contains("expected a list", Fails("""{ "proxyProtocol": { "trustedSources": "10.0.5.0/28,10.0.6.7" } }""").Problem);
    }
}
