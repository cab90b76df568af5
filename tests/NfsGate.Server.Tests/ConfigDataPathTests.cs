using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>objectStore (local and s3) and cache keys: values, defaults, environment, masking, and every error.</summary>
public class ConfigDataPathTests
{
    static GatewayConfig Parse(string? json, params (string Name, string Value)[] env) =>
        ConfigLoader.Parse(json, "(test)", env.ToDictionary(e => e.Name, e => e.Value), []);

    static ConfigException Fails(string? json, params (string Name, string Value)[] env) =>
        Assert.Throws<ConfigException>(() => Parse(json, env));

    const string FullS3 = """
        { "objectStore": {
            "type": "s3", "endpoint": "https://s3.example.net:8443", "bucket": "my-bucket", "region": "eu-west-3",
            "prefix": "gw/a/", "accessKey": "AKIA123", "secretKey": "very-secret", "forcePathStyle": false,
            "storageClass": "STANDARD_IA", "createBucket": true, "maxConcurrency": 64, "maxRetries": 7, "requestTimeout": "1m30s" },
          "cache": { "path": "/ssd/cache", "size": "20GiB", "minFreeRatio": 0.25, "enabled": true } }
        """;

    [Fact]
    public void Every_s3_key_is_parsed()
    {
        var o = Parse(FullS3).ObjectStore;
        Assert.Equal(ObjectStoreType.S3, o.Type);
        Assert.Equal("https://s3.example.net:8443", o.Endpoint);
        Assert.Equal("my-bucket", o.Bucket);
        Assert.Equal("eu-west-3", o.Region);
        Assert.Equal("gw/a/", o.Prefix);
        Assert.Equal("AKIA123", o.AccessKey);
        Assert.Equal("very-secret", o.SecretKey);
        Assert.False(o.ForcePathStyle);
        Assert.Equal("STANDARD_IA", o.StorageClass);
        Assert.True(o.CreateBucket);
        Assert.Equal(64, o.MaxConcurrency);
        Assert.Equal(7, o.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(90), o.RequestTimeout);
    }

    [Fact]
    public void Every_cache_key_is_parsed()
    {
        var c = Parse(FullS3).Cache;
        Assert.Equal("/ssd/cache", c.Path);
        Assert.Equal(20L << 30, c.SizeBytes);
        Assert.Equal(0.25, c.MinFreeRatio);
        Assert.True(c.Enabled);
        Assert.True(c.IsActive);
    }

    [Fact]
    public void S3_defaults()
    {
        var o = Parse("""{ "objectStore": { "type": "s3", "bucket": "b12" } }""").ObjectStore;
        Assert.Null(o.Endpoint);
        Assert.Equal("us-east-1", o.Region);
        Assert.Equal("", o.Prefix);
        Assert.Null(o.AccessKey);
        Assert.Null(o.SecretKey);
        Assert.False(o.ForcePathStyle); // AWS itself: virtual-hosted URLs
        Assert.Null(o.StorageClass);
        Assert.False(o.CreateBucket);
        Assert.Equal(16, o.MaxConcurrency);
        Assert.Equal(4, o.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RequestTimeout);
    }

    [Fact]
    public void An_endpoint_turns_path_style_on_unless_told_otherwise()
    {
        Assert.True(Parse("""{ "objectStore": { "type": "s3", "bucket": "b12", "endpoint": "http://127.0.0.1:7480" } }""").ObjectStore.ForcePathStyle);
        Assert.False(Parse("""{ "objectStore": { "type": "s3", "bucket": "b12", "endpoint": "http://127.0.0.1:7480", "forcePathStyle": false } }""").ObjectStore.ForcePathStyle);
    }

    [Fact]
    public void Cache_defaults_and_the_two_ways_to_turn_it_off()
    {
        var c = Parse(null).Cache;
        Assert.Equal(1L << 30, c.SizeBytes);
        Assert.Equal(0.1, c.MinFreeRatio);
        Assert.True(c.Enabled);
        Assert.True(c.IsActive);
        Assert.False(Parse("""{ "cache": { "enabled": false } }""").Cache.IsActive);
        Assert.False(Parse("""{ "cache": { "size": 0 } }""").Cache.IsActive);
        Assert.False(Parse("""{ "cache": { "size": "0" } }""").Cache.IsActive);
    }

    [Fact]
    public void Environment_overrides_the_new_keys()
    {
        var c = Parse("""{ "objectStore": { "type": "s3", "bucket": "from-file" } }""",
            ("NFSGATE_OBJECTSTORE__BUCKET", "from-env"), ("NFSGATE_OBJECTSTORE__ENDPOINT", "http://127.0.0.1:9000"),
            ("NFSGATE_OBJECTSTORE__ACCESSKEY", "ak"), ("NFSGATE_OBJECTSTORE__SECRETKEY", "sk"),
            ("NFSGATE_OBJECTSTORE__CREATEBUCKET", "true"), ("NFSGATE_OBJECTSTORE__MAXCONCURRENCY", "8"),
            ("NFSGATE_OBJECTSTORE__MAXRETRIES", "0"), ("NFSGATE_OBJECTSTORE__REQUESTTIMEOUT", "5s"),
            ("NFSGATE_OBJECTSTORE__STORAGECLASS", "GLACIER_IR"),
            ("NFSGATE_CACHE__MINFREERATIO", "0.05"), ("NFSGATE_CACHE__ENABLED", "false"));
        var o = c.ObjectStore;
        Assert.Equal("from-env", o.Bucket);
        Assert.Equal("http://127.0.0.1:9000", o.Endpoint);
        Assert.Equal(("ak", "sk"), (o.AccessKey, o.SecretKey));
        Assert.True(o.CreateBucket);
        Assert.Equal(8, o.MaxConcurrency);
        Assert.Equal(0, o.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(5), o.RequestTimeout);
        Assert.Equal("GLACIER_IR", o.StorageClass);
        Assert.Equal(0.05, c.Cache.MinFreeRatio);
        Assert.False(c.Cache.Enabled);
    }

    [Fact]
    public void The_whole_store_can_switch_to_s3_from_the_environment()
    {
        var o = Parse(null, ("NFSGATE_OBJECTSTORE__TYPE", "s3"), ("NFSGATE_OBJECTSTORE__BUCKET", "env-only")).ObjectStore;
        Assert.Equal(ObjectStoreType.S3, o.Type);
        Assert.Equal("env-only", o.Bucket);
    }

    [Fact]
    public void Check_config_masks_the_secret_and_parses_back()
    {
        var c = Parse(FullS3);
        string printed = ConfigPrinter.ToJson(c);
        Assert.DoesNotContain("very-secret", printed);
        Assert.Contains("\"secretKey\": \"***\"", printed);
        Assert.Contains("\"requestTimeout\": \"1m30s\"", printed);
        Assert.DoesNotContain("\"path\": \"" + c.ObjectStore.Path, printed); // the local key is not printed for s3
        var again = ConfigLoader.Parse(printed, "(printed)", new Dictionary<string, string>(), []);
        Assert.Equal(printed, ConfigPrinter.ToJson(again));
    }

    [Theory]
    [InlineData("""{ "objectStore": { "type": "s3" } }""", "objectStore.bucket", "missing")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "" } }""", "objectStore.bucket", "3-63 characters")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "Upper_Case" } }""", "objectStore.bucket", "3-63 characters")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": 5 } }""", "objectStore.bucket", "expected a string")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "endpoint": "127.0.0.1:9000" } }""", "objectStore.endpoint", "http:// or https://")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "endpoint": "ftp://x" } }""", "objectStore.endpoint", "http:// or https://")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "region": "" } }""", "objectStore.region", "must not be empty")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "prefix": "/abs" } }""", "objectStore.prefix", "relative")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "accessKey": "a" } }""", "objectStore.secretKey", "go together")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "secretKey": "s" } }""", "objectStore.accessKey", "go together")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "forcePathStyle": "yes" } }""", "objectStore.forcePathStyle", "expected true or false")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "createBucket": 1 } }""", "objectStore.createBucket", "expected true or false")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "storageClass": "standard" } }""", "objectStore.storageClass", "storage class")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "storageClass": "DEEP_ARCHIVE" } }""", "objectStore.storageClass", "restore")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "maxConcurrency": 0 } }""", "objectStore.maxConcurrency", "from 1 to 1024")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "maxConcurrency": 2.5 } }""", "objectStore.maxConcurrency", "whole number")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "maxConcurrency": "8" } }""", "objectStore.maxConcurrency", "whole number")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "maxRetries": -1 } }""", "objectStore.maxRetries", "from 0 to 100")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "requestTimeout": 30 } }""", "objectStore.requestTimeout", "duration")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "requestTimeout": "30" } }""", "objectStore.requestTimeout", "duration")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "requestTimeout": "0s" } }""", "objectStore.requestTimeout", "positive duration")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "path": "/data" } }""", "objectStore.path", "only for objectStore.type \"local\"")]
    [InlineData("""{ "objectStore": { "bucket": "b12" } }""", "objectStore.bucket", "only for objectStore.type \"s3\", but type is \"local\"")]
    [InlineData("""{ "objectStore": { "type": "local", "requestTimeout": "5s" } }""", "objectStore.requestTimeout", "only for objectStore.type \"s3\"")]
    [InlineData("""{ "objectStore": { "type": "s3", "bucket": "b12", "bukket": "x" } }""", "objectStore.bukket", "unknown key")]
    [InlineData("""{ "cache": { "minFreeRatio": 1 } }""", "cache.minFreeRatio", "below 1")]
    [InlineData("""{ "cache": { "minFreeRatio": -0.1 } }""", "cache.minFreeRatio", "from 0")]
    [InlineData("""{ "cache": { "minFreeRatio": "0.1" } }""", "cache.minFreeRatio", "expected a number")]
    [InlineData("""{ "cache": { "enabled": "no" } }""", "cache.enabled", "expected true or false")]
    public void Error_names_the_key(string json, string keyPath, string problem)
    {
        var e = Fails(json);
        Assert.Equal(keyPath, e.KeyPath);
        Assert.Contains(problem, e.Problem);
    }

    [Theory]
    [InlineData("NFSGATE_OBJECTSTORE__MAXRETRIES", "many", "objectStore.maxRetries")]
    [InlineData("NFSGATE_OBJECTSTORE__REQUESTTIMEOUT", "soon", "objectStore.requestTimeout")]
    [InlineData("NFSGATE_CACHE__MINFREERATIO", "lots", "cache.minFreeRatio")]
    [InlineData("NFSGATE_OBJECTSTORE__PATH", "/x", "objectStore.path")]
    public void Bad_environment_values_name_the_key_and_the_variable(string name, string value, string keyPath)
    {
        var e = Fails("""{ "objectStore": { "type": "s3", "bucket": "b12" } }""", (name, value));
        Assert.Equal(keyPath, e.KeyPath);
        Assert.Contains($"(from {name})", e.Problem);
    }
}
