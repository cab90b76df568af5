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
    public WritesConfig Writes { get; init; } = new(NfsGate.FileSystem.CommitMode.Strict, System.IO.Path.Combine(DefaultDataDir, "staging"), WritesConfig.DefaultStagingSize);
    /// <summary>proxyProtocol: load balancers trusted to name the real client in a PROXY header (ConfigWalker.Proxy.cs).</summary>
    public ProxyProtocolConfig ProxyProtocol { get; init; } = ProxyProtocolConfig.Off;
}

/// <summary>When COMMIT answers (strict: data in the object store; writeback: fsync'ed in <see cref="StagingPath"/>), and the staging cap.</summary>
public sealed record WritesConfig(NfsGate.FileSystem.CommitMode CommitMode, string StagingPath, long StagingSize)
{
    public const long DefaultStagingSize = 4L << 30;
    /// <summary>writes.stagingDrainTimeout / writes.compactUploadConcurrency: defaults from FileSystemOptions (one place).</summary>
    static readonly NfsGate.FileSystem.FileSystemOptions FsDefaults = new();
    public TimeSpan StagingDrainTimeout { get; init; } = FsDefaults.StagingDrainTimeout;
    public int CompactUploadConcurrency { get; init; } = FsDefaults.CompactUploadConcurrency;
    /// <summary>writes.inlineSize: a flush's small pieces of one chunk up to this size are committed in the metadata (0 = off).</summary>
    public long InlineSize { get; init; } = FsDefaults.InlineMaxBytes;
}

public enum MetadataEngine { RocksDb, Memory, Postgres }

public sealed record MetadataConfig(MetadataEngine Engine, string Path)
{
    /// <summary>Npgsql connection string for engine "postgres" (required there, refused elsewhere); may hold a password.</summary>
    public string? ConnectionString { get; init; }
}

public enum ObjectStoreType { Local, S3 }

/// <summary>
/// <see cref="Path"/> is for "local" (always filled, derived from dataDir by default, so switching type back needs
/// no edit); the rest is for "s3". Null S3 fields mean "the SDK's default" (credentials: AWS_* variables, then the
/// SDK chain; storage class: the bucket's default).
/// </summary>
public sealed record ObjectStoreConfig(ObjectStoreType Type, string Path)
{
    public const string DefaultRegion = "us-east-1";
    public const int DefaultMaxConcurrency = 16;
    public const int DefaultMaxRetries = 4;
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    public string? Bucket { get; init; }
    public string? Endpoint { get; init; }
    public string Region { get; init; } = DefaultRegion;
    public string Prefix { get; init; } = "";
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }
    /// <summary>Path-style URLs (http://host/bucket/key). Default: on when an endpoint is given (S3-compatible servers need it), off for AWS.</summary>
    public bool ForcePathStyle { get; init; }
    public string? StorageClass { get; init; }
    public bool CreateBucket { get; init; }
    public int MaxConcurrency { get; init; } = DefaultMaxConcurrency;
    public int MaxRetries { get; init; } = DefaultMaxRetries;
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;
}

/// <summary>The SSD block cache in front of the object store. Off when <see cref="Enabled"/> is false or the size is 0.</summary>
public sealed record CacheConfig(string Path, long SizeBytes)
{
    public const double DefaultMinFreeRatio = 0.1;

    public double MinFreeRatio { get; init; } = DefaultMinFreeRatio;
    public bool Enabled { get; init; } = true;

    public bool IsActive => Enabled && SizeBytes > 0;
}

public sealed record ExportConfig(string Name, string Path, bool ReadOnly)
{
    /// <summary>exports[].clients in order; null = no rules (open to everyone, read-write, no squash).</summary>
    public IReadOnlyList<NfsGate.Protocol.ClientRule>? Clients { get; init; }
    /// <summary>exports[].quota; <see cref="NfsGate.Metadata.VolumeQuota.None"/> = no limit.</summary>
    public NfsGate.Metadata.VolumeQuota Quota { get; init; }
    /// <summary>exports[].trash.retention; zero = no trash (REMOVE deletes at once).</summary>
    public TimeSpan TrashRetention { get; init; }
    /// <summary>exports[].qos: bandwidth and IOPS caps; null = none. A runtime override (admin API) wins over it.</summary>
    public NfsGate.Protocol.Qos.QosPolicy? Qos { get; init; }
    /// <summary>exports[].storageClass: S3 storage class of the export's objects (e.g. STANDARD_IA); null = objectStore.storageClass.</summary>
    public string? StorageClass { get; init; }
}

public enum LogFormat { Text, Json }

public sealed record LogConfig(Serilog.Events.LogEventLevel Level, LogFormat Format, string? File)
{
    public static readonly TimeSpan DefaultSlowOperation = TimeSpan.FromSeconds(1);

    /// <summary>NFS calls at least this slow are logged (category NfsGate.SlowOperations); null = "off".</summary>
    public TimeSpan? SlowOperation { get; init; } = DefaultSlowOperation;
}
