using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>writes.stagingDrainTimeout, writes.compactUploadConcurrency and writes.inlineSize: FileSystemOptions knobs made config keys.</summary>
public class ConfigWritesTuningTests
{
    static GatewayConfig Parse(string? json, params (string Name, string Value)[] env) =>
        ConfigLoader.Parse(json, "test.json", env.ToDictionary(e => e.Name, e => e.Value), []);

    [Fact]
    public void Defaults_are_the_file_system_defaults()
    {
        var fs = new NfsGate.FileSystem.FileSystemOptions();
        var c = Parse(null);
        Assert.Equal(fs.StagingDrainTimeout, c.Writes.StagingDrainTimeout);
        Assert.Equal(fs.CompactUploadConcurrency, c.Writes.CompactUploadConcurrency);
        Assert.Equal(fs.InlineMaxBytes, c.Writes.InlineSize);
        Assert.Equal(64 << 10, c.Writes.InlineSize);
        c = Parse("""{ "writes": { "commitMode": "writeback" } }""");
        Assert.Equal(TimeSpan.FromSeconds(20), c.Writes.StagingDrainTimeout);
        Assert.Equal(2, c.Writes.CompactUploadConcurrency);
    }

    [Fact]
    public void Values_from_the_file_are_taken()
    {
        var c = Parse("""{ "writes": { "stagingDrainTimeout": "1m30s", "compactUploadConcurrency": 64 } }""");
        Assert.Equal(TimeSpan.FromSeconds(90), c.Writes.StagingDrainTimeout);
        Assert.Equal(64, c.Writes.CompactUploadConcurrency);
        c = Parse("""{ "writes": { "compactUploadConcurrency": 1 } }""");
        Assert.Equal(1, c.Writes.CompactUploadConcurrency);
        Assert.Equal(0, Parse("""{ "writes": { "inlineSize": "0" } }""").Writes.InlineSize);
        Assert.Equal(1 << 20, Parse("""{ "writes": { "inlineSize": "1MiB" } }""").Writes.InlineSize);
        Assert.Equal(4096, Parse("""{ "writes": { "inlineSize": 4096 } }""").Writes.InlineSize);
    }

    [Fact]
    public void Environment_overrides_the_file()
    {
        var c = Parse("""{ "writes": { "stagingDrainTimeout": "5s", "compactUploadConcurrency": 3, "inlineSize": "8KiB" } }""",
            ("NFSGATE_WRITES__STAGINGDRAINTIMEOUT", "45s"), ("NFSGATE_WRITES__COMPACTUPLOADCONCURRENCY", "6"), ("NFSGATE_WRITES__INLINESIZE", "16KiB"));
        Assert.Equal(16 << 10, c.Writes.InlineSize);
        Assert.Equal(TimeSpan.FromSeconds(45), c.Writes.StagingDrainTimeout);
        Assert.Equal(6, c.Writes.CompactUploadConcurrency);
    }

    [Theory]
    [InlineData("""{ "writes": { "compactUploadConcurrency": 0 } }""", "writes.compactUploadConcurrency")]
    [InlineData("""{ "writes": { "compactUploadConcurrency": 65 } }""", "writes.compactUploadConcurrency")]
    [InlineData("""{ "writes": { "compactUploadConcurrency": "4" } }""", "writes.compactUploadConcurrency")]
    [InlineData("""{ "writes": { "compactUploadConcurrency": 2.5 } }""", "writes.compactUploadConcurrency")]
    [InlineData("""{ "writes": { "inlineSize": "2MiB" } }""", "writes.inlineSize")]
    [InlineData("""{ "writes": { "inlineSize": -1 } }""", "writes.inlineSize")]
    [InlineData("""{ "writes": { "inlineSize": "lots" } }""", "writes.inlineSize")]
    [InlineData("""{ "writes": { "stagingDrainTimeout": "20" } }""", "writes.stagingDrainTimeout")]
    [InlineData("""{ "writes": { "stagingDrainTimeout": "0s" } }""", "writes.stagingDrainTimeout")]
    [InlineData("""{ "writes": { "stagingDrainTimeout": 20 } }""", "writes.stagingDrainTimeout")]
    [InlineData("""{ "writes": { "stagingDrainTimeout": "2d" } }""", "writes.stagingDrainTimeout")]
    [InlineData("""{ "writes": { "stagingDrainTimeOut": "20s" } }""", "writes.stagingDrainTimeOut")]
    public void Bad_values_name_the_key(string json, string key)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.StartsWith($"config error: {key}: ", e.Message);
    }

    [Fact]
    public void A_bad_environment_value_names_the_key()
    {
        var e = Assert.Throws<ConfigException>(() => Parse(null, ("NFSGATE_WRITES__COMPACTUPLOADCONCURRENCY", "many")));
        Assert.Contains("writes.compactUploadConcurrency", e.Message);
    }

    [Fact]
    public void Check_config_prints_both_and_they_parse_back()
    {
        var c = Parse("""{ "writes": { "stagingDrainTimeout": "2m", "compactUploadConcurrency": 5, "inlineSize": "32KiB" } }""");
        string printed = ConfigPrinter.ToJson(c);
        Assert.Contains("\"inlineSize\": \"32KiB\"", printed);
        Assert.Equal(32 << 10, Parse(printed).Writes.InlineSize);
        Assert.Contains("\"stagingDrainTimeout\": \"2m\"", printed);
        Assert.Contains("\"compactUploadConcurrency\": 5", printed);
        var again = Parse(printed);
        Assert.Equal(TimeSpan.FromMinutes(2), again.Writes.StagingDrainTimeout);
        Assert.Equal(5, again.Writes.CompactUploadConcurrency);
    }
}
