using System.Net;

namespace NfsGate.Server.Config;

/// <summary>The effective configuration after defaults, the file, environment overrides and command-line flags.</summary>
public sealed record GatewayConfig
{
    public const string DefaultDataDir = "./nfsgate-data";

    public required IPEndPoint Listen { get; init; }
    /// <summary>Null = "off".</summary>
    public IPEndPoint? Portmapper { get; init; }
    /// <summary>Null = "off".</summary>
    public IPEndPoint? Http { get; init; }
    public required string DataDir { get; init; }
    public required MetadataConfig Metadata { get; init; }
    public required ObjectStoreConfig ObjectStore { get; init; }
    public required CacheConfig Cache { get; init; }
    public required IReadOnlyList<ExportConfig> Exports { get; init; }
    public required LogConfig Log { get; init; }
}

public enum MetadataEngine { RocksDb, Memory }

public sealed record MetadataConfig(MetadataEngine Engine, string Path);

public enum ObjectStoreType { Local, S3 }

/// <summary><see cref="Path"/> is for "local"; the S3 fields are accepted now so configs can be written ahead of the S3 data path.</summary>
public sealed record ObjectStoreConfig(ObjectStoreType Type, string Path)
{
    public string? Bucket { get; init; }
    public string? Endpoint { get; init; }
    public string? Region { get; init; }
    public string? Prefix { get; init; }
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }
    public bool ForcePathStyle { get; init; }
}

public sealed record CacheConfig(string Path, long SizeBytes);

public sealed record ExportConfig(string Name, string Path, bool ReadOnly);

public enum LogFormat { Text, Json }

public sealed record LogConfig(Serilog.Events.LogEventLevel Level, LogFormat Format, string? File);
