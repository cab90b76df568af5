using NfsGate.Data;
using NfsGate.Data.S3;
using NfsGate.TestShared;

namespace NfsGate.Server.Tests.S3;

/// <summary>
/// The real S3 server (Ceph RGW) for the gateway's S3 tests, started the way tests/NfsGate.Data.Tests' S3CephFixture
/// does: <c>../shared/tools/s3-ceph/s3-ceph start</c> (idempotent; seconds when Ceph already runs), its
/// <c>export S3_...=...</c> lines parsed. The tests create their own bucket through the gateway (createBucket: true);
/// this fixture removes it and everything in it at the end. With NFSGATE_SKIP_S3=1 nothing is started and the
/// <see cref="S3FactAttribute"/> tests are skipped; otherwise a server that cannot start fails them with the reason.
/// </summary>
public sealed class S3CephServer : IAsyncLifetime
{
    public static bool SkipRequested => S3Ceph.SkipRequested;

    public string Endpoint { get; private set; } = "";
    public string AccessKey { get; private set; } = "";
    public string SecretKey { get; private set; } = "";
    public string Region { get; private set; } = "";

    /// <summary>Unique to the run, so runs on one shared server never see each other's objects.</summary>
    public string Bucket { get; } = $"nfsgate-srv-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    public async Task InitializeAsync()
    {
        if (SkipRequested) return;
        var server = await S3Ceph.StartAsync();
        (Endpoint, AccessKey, SecretKey, Region) = (server.Endpoint, server.AccessKey, server.SecretKey, server.Region);
    }

    /// <summary>A direct client on the run's bucket, for checking what the gateway stored.</summary>
    public S3ObjectStore Direct(string prefix = "") => new(new S3Options
    {
        Endpoint = Endpoint,
        Bucket = Bucket,
        Region = Region,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        Prefix = prefix,
        MaxRetries = 2,
    });

    public async Task DisposeAsync()
    {
        if (SkipRequested || Endpoint.Length == 0) return;
        await S3Ceph.DeleteBucketAsync(new S3CephServerInfo(Endpoint, AccessKey, SecretKey, Region), Bucket);
    }
}

[CollectionDefinition(Name)]
public sealed class S3CephServerCollection : ICollectionFixture<S3CephServer>
{
    public const string Name = "s3-ceph server";
}

/// <summary>A fact that needs the s3-ceph server: skipped when NFSGATE_SKIP_S3=1.</summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (S3CephServer.SkipRequested) Skip = "NFSGATE_SKIP_S3=1";
    }
}
