using NfsGate.Data.S3;
using NfsGate.TestShared;

namespace NfsGate.Data.Tests.S3;

/// <summary>
/// A real S3 server for the test run: runs <c>../shared/tools/s3-ceph/s3-ceph start</c> (relative to the repo root,
/// the directory holding NfsGate.sln) once per run, reads the <c>export S3_...=...</c> lines it prints, and creates
/// a bucket unique to the run, which it empties and removes at the end. <c>start</c> is idempotent: on a machine
/// where Ceph is installed and running it only checks the daemons (seconds); the very first start installs Ceph from
/// Debian packages (about 17 minutes here).
/// <para>
/// If the server cannot start, every S3 test fails with the reason, unless NFSGATE_SKIP_S3=1, in which case the
/// tests marked <see cref="S3FactAttribute"/>/<see cref="S3TheoryAttribute"/> are skipped and nothing is started.
/// </para>
/// </summary>
public sealed class S3CephFixture : IAsyncLifetime
{
    public static bool SkipRequested => S3Ceph.SkipRequested;

    private readonly List<IDisposable> _stores = [];
    private int _n;

    public string Endpoint { get; private set; } = "";
    public string AccessKey { get; private set; } = "";
    public string SecretKey { get; private set; } = "";
    public string Region { get; private set; } = "";
    public string Bucket { get; } = $"nfsgate-test-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    public async Task InitializeAsync()
    {
        if (SkipRequested) return;
        var server = await S3Ceph.StartAsync().ConfigureAwait(false);
        (Endpoint, AccessKey, SecretKey, Region) = (server.Endpoint, server.AccessKey, server.SecretKey, server.Region);
        using var admin = new S3ObjectStore(Options() with { CreateBucketIfMissing = true });
        await admin.EnsureBucketAsync().ConfigureAwait(false);
    }

    /// <summary>Options for the run's bucket with the server's endpoint and keys.</summary>
    public S3Options Options(string prefix = "") => new()
    {
        Endpoint = Endpoint,
        Bucket = Bucket,
        Region = Region,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        Prefix = prefix,
        MaxRetries = 2,
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A store over a fresh, empty prefix of the run's bucket; disposed at the end of the run.</summary>
    public S3ObjectStore NewStore(Func<S3Options, S3Options>? adjust = null)
    {
        var options = Options($"t{Interlocked.Increment(ref _n)}/");
        var store = new S3ObjectStore(adjust is null ? options : adjust(options));
        lock (_stores) _stores.Add(store);
        return store;
    }

    public async Task DisposeAsync()
    {
        lock (_stores)
        {
            foreach (var s in _stores) s.Dispose();
            _stores.Clear();
        }
        if (SkipRequested || Endpoint.Length == 0) return;
        // Leave the shared server as we found it: without this run's bucket.
        await S3Ceph.DeleteBucketAsync(new S3CephServerInfo(Endpoint, AccessKey, SecretKey, Region), Bucket);
    }

    public static string RepoRoot() => S3Ceph.RepoRoot();
}

[CollectionDefinition(Name)]
public sealed class S3CephCollection : ICollectionFixture<S3CephFixture>
{
    public const string Name = "s3-ceph";
}

/// <summary>A fact that needs the s3-ceph server: skipped when NFSGATE_SKIP_S3=1.</summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (S3CephFixture.SkipRequested) Skip = "NFSGATE_SKIP_S3=1";
    }
}

/// <summary>A theory that needs the s3-ceph server: skipped when NFSGATE_SKIP_S3=1.</summary>
public sealed class S3TheoryAttribute : TheoryAttribute
{
    public S3TheoryAttribute()
    {
        if (S3CephFixture.SkipRequested) Skip = "NFSGATE_SKIP_S3=1";
    }
}
