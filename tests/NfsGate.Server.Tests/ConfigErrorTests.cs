using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

public class ConfigErrorTests
{
    static ConfigException Fails(string json) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "test.json", new Dictionary<string, string>(), []));

    [Theory]
    [InlineData("""{ "exports": [ { "name": "a", "path": "/a" }, { "name": "b", "pahth": "/b" } ] }""", "exports[1].pahth", "unknown key")]
    [InlineData("""{ "lisen": "0.0.0.0:2049" }""", "lisen", "unknown key")]
    [InlineData("""{ "metadata": { "engine": "rocksdb", "size": 1 } }""", "metadata.size", "unknown key")]
    [InlineData("""{ "log": { "colour": true } }""", "log.colour", "unknown key")]
    [InlineData("""{ "listen": 2049 }""", "listen", "expected an address")]
    [InlineData("""{ "listen": "0.0.0.0" }""", "listen", "expected an address")]
    [InlineData("""{ "listen": "0.0.0.0:70000" }""", "listen", "expected an address")]
    [InlineData("""{ "listen": "off" }""", "listen", "expected an address")]
    [InlineData("""{ "http": "1.2:80" }""", "http", "expected an address")]
    [InlineData("""{ "portmapper": "no" }""", "portmapper", "or \"off\"")]
    [InlineData("""{ "dataDir": 5 }""", "dataDir", "expected a string, got a number")]
    [InlineData("""{ "metadata": "rocksdb" }""", "metadata", "expected an object")]
    [InlineData("""{ "metadata": { "engine": "leveldb" } }""", "metadata.engine", "\"rocksdb\" or \"memory\"")]
    [InlineData("""{ "objectStore": { "type": "ftp" } }""", "objectStore.type", "\"local\" or \"s3\"")]
    [InlineData("""{ "cache": { "size": "10GB" } }""", "cache.size", "expected a size")]
    [InlineData("""{ "cache": { "size": "-1GiB" } }""", "cache.size", "expected a size")]
    [InlineData("""{ "cache": { "size": -5 } }""", "cache.size", "expected a size")]
    [InlineData("""{ "cache": { "size": "lots" } }""", "cache.size", "expected a size")]
    [InlineData("""{ "exports": {} }""", "exports", "expected a list")]
    [InlineData("""{ "exports": [] }""", "exports", "at least one")]
    [InlineData("""{ "exports": [ "x" ] }""", "exports[0]", "expected an object")]
    [InlineData("""{ "exports": [ { "path": "/" } ] }""", "exports[0].name", "missing")]
    [InlineData("""{ "exports": [ { "name": "a" } ] }""", "exports[0].path", "missing")]
    [InlineData("""{ "exports": [ { "name": "a", "path": "data" } ] }""", "exports[0].path", "must start with '/'")]
    [InlineData("""{ "exports": [ { "name": "a b", "path": "/" } ] }""", "exports[0].name", "must be")]
    [InlineData("""{ "exports": [ { "name": "a", "path": "/", "readOnly": "true" } ] }""", "exports[0].readOnly", "expected true or false, got a string")]
    [InlineData("""{ "exports": [ { "name": "a", "path": "/a" }, { "name": "a", "path": "/b" } ] }""", "exports[1].name", "duplicate export name")]
    [InlineData("""{ "exports": [ { "name": "a", "path": "/a" }, { "name": "b", "path": "/a" } ] }""", "exports[1].path", "duplicate export path")]
    [InlineData("""{ "log": { "level": "chatty" } }""", "log.level", "expected verbose")]
    [InlineData("""{ "log": { "format": "xml" } }""", "log.format", "\"text\" or \"json\"")]
    public void Error_names_the_key_path(string json, string keyPath, string problem)
    {
        var e = Fails(json);
        Assert.Equal(keyPath, e.KeyPath);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"config error: {keyPath}: ", e.Message);
    }

    [Fact]
    public void The_issue_example_reads_as_documented()
    {
        var e = Fails("""{ "exports": [ { "name": "a", "path": "/a" }, { "name": "b", "pahth": "/b" } ] }""");
        Assert.StartsWith("config error: exports[1].pahth: unknown key", e.Message);
    }

    [Theory]
    [InlineData("{ \"listen\": ")]
    [InlineData("[ 1, 2 ]")]
    [InlineData("{ \"listen\": \"127.0.0.1:1\", \"listen\": \"127.0.0.1:2\" }")]
    public void Broken_json_names_the_file(string json)
    {
        var e = Fails(json);
        Assert.Equal("test.json", e.KeyPath);
    }

    [Fact]
    public void Keys_are_case_sensitive_in_the_file()
    {
        var e = Fails("""{ "DataDir": "/x" }""");
        Assert.Equal("DataDir", e.KeyPath);
    }
}
