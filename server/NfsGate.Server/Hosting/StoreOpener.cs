using Microsoft.Extensions.Logging;
using NfsGate.Data;
using NfsGate.Data.S3;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Postgres;
using NfsGate.Metadata.RocksDb;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// Opens the metadata engine and the durable object store from the configuration: one place, shared by
/// <see cref="GatewayHost"/> (serve) and <see cref="MaintenanceCommand"/> (fsck, gc), so the tools read exactly the
/// stores the server writes.
/// </summary>
public static class StoreOpener
{
    /// <summary>RocksDB throws <see cref="IOException"/> ("in use") when another process (a running server) holds its lock.</summary>
    public static IKvStore OpenMetadata(MetadataConfig m)
    {
        if (m.Engine == MetadataEngine.Memory)
            return new MemoryKvStore();
        // Shared by every gateway of a cluster; creates its table on first start.
        if (m.Engine == MetadataEngine.Postgres)
            return new PostgresKvStore(m.ConnectionString!);
        Directory.CreateDirectory(m.Path);
        return new RocksKvStore(m.Path);
    }

    /// <summary>
    /// The backend itself (never the block cache: maintenance must see what is durable). The caller disposes the
    /// result when it is <see cref="IDisposable"/> (the S3 client, the local store's O_DIRECT buffers). <paramref name="prepare"/> is for serve only:
    /// remove unfinished uploads of an earlier run and create the bucket if configured — work a checker must not do.
    /// <paramref name="directWrites"/>: a local store writes its objects with O_DIRECT (serve sets it when a block
    /// cache is in front; see <see cref="LocalDirObjectStore"/>).
    /// </summary>
    public static async Task<IObjectStore> OpenBackendAsync(ObjectStoreConfig o, bool prepare, ILoggerFactory loggerFactory, CancellationToken ct, bool directWrites = false)
    {
        var log = loggerFactory.CreateLogger("NfsGate.Server");
        if (o.Type == ObjectStoreType.Local)
        {
            var local = new LocalDirObjectStore(o.Path, directWrites);
            if (prepare)
            {
                int leftovers = local.RemoveTempFiles();
                if (leftovers > 0)
                    log.LogInformation("object store: removed {Leftovers} unfinished uploads from a previous run", leftovers);
            }
            return local;
        }
        var s3 = new S3ObjectStore(new S3Options
        {
            Endpoint = o.Endpoint,
            Bucket = o.Bucket!,
            Region = o.Region,
            Prefix = o.Prefix,
            AccessKey = o.AccessKey,
            SecretKey = o.SecretKey,
            ForcePathStyle = o.ForcePathStyle,
            StorageClass = o.StorageClass,
            MaxConcurrency = o.MaxConcurrency,
            MaxRetries = o.MaxRetries,
            RequestTimeout = o.RequestTimeout,
            CreateBucketIfMissing = o.CreateBucket,
        }, loggerFactory.CreateLogger<S3ObjectStore>());
        if (prepare && o.CreateBucket)
        {
            try
            {
                await s3.EnsureBucketAsync(ct);
            }
            catch
            {
                s3.Dispose();
                throw;
            }
            log.LogInformation("object store: bucket {Bucket} ready", o.Bucket);
        }
        return s3;
    }

    /// <summary>
    /// FSSTAT numbers for a local store: the file system holding the objects directory (statvfs through
    /// <see cref="DriveInfo"/>, read fresh on each call). Null for S3, which has no fixed size.
    /// </summary>
    public static Func<(ulong Total, ulong Available)>? LocalCapacity(IObjectStore backend)
    {
        if (backend is not LocalDirObjectStore local)
            return null;
        var drive = new DriveInfo(local.Root);
        return () => ((ulong)drive.TotalSize, (ulong)drive.AvailableFreeSpace);
    }
}
