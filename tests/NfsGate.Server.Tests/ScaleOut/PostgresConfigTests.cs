using NfsGate.Server.Config;

namespace NfsGate.Server.Tests.ScaleOut;

/// <summary>"metadata": { "engine": "postgres", "connectionString": ... }: parsed, checked, printed without the password.</summary>
public sealed class PostgresConfigTests
{
    static GatewayConfig Parse(string json, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(json, "(test)", env ?? [], []);

    const string Cs = "Host=db.example;Port=5433;Database=nfs;Username=gw;Password=hunter2";

    [Fact]
    public void Postgres_engine_takes_a_connection_string()
    {
        var c = Parse($$"""{ "metadata": { "engine": "postgres", "connectionString": "{{Cs}}" } }""");
        Assert.Equal(MetadataEngine.Postgres, c.Metadata.Engine);
        Assert.Equal(Cs, c.Metadata.ConnectionString);
    }

    [Fact]
    public void Environment_can_switch_a_gateway_to_the_shared_engine()
    {
        var c = Parse("{}", new() { ["NFSGATE_METADATA__ENGINE"] = "postgres", ["NFSGATE_METADATA__CONNECTIONSTRING"] = Cs });
        Assert.Equal(MetadataEngine.Postgres, c.Metadata.Engine);
        Assert.Equal(Cs, c.Metadata.ConnectionString);
    }

    [Theory]
    [InlineData("""{ "metadata": { "engine": "postgres" } }""", "missing")]
    [InlineData("""{ "metadata": { "engine": "postgres", "connectionString": "" } }""", "missing")]
    [InlineData("""{ "metadata": { "engine": "postgres", "connectionString": "Port=5432" } }""", "no Host=")]
    [InlineData("""{ "metadata": { "engine": "postgres", "connectionString": "Hots=db" } }""", "Hots")]
    [InlineData("""{ "metadata": { "engine": "rocksdb", "connectionString": "Host=db" } }""", "only for engine \"postgres\"")]
    public void Bad_connection_settings_are_config_errors(string json, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Equal("metadata.connectionString", e.KeyPath);
        Assert.Contains(problem, e.Problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Printed_config_masks_the_password_and_parses_again()
    {
        var c = Parse($$"""{ "metadata": { "engine": "postgres", "connectionString": "{{Cs}}" } }""");
        string printed = ConfigPrinter.ToJson(c);
        Assert.DoesNotContain("hunter2", printed);
        Assert.Contains("\"engine\": \"postgres\"", printed);
        Assert.Contains("Host=db.example", printed);
        Assert.Equal(printed, ConfigPrinter.ToJson(Parse(printed)));
    }
}
