using System.Diagnostics;
using NfsGate.Data.S3;

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
    public static bool SkipRequested => Environment.GetEnvironmentVariable("NFSGATE_SKIP_S3") == "1";

    /// <summary>The first start installs packages; later ones take seconds.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(30);

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
        var env = await Start().ConfigureAwait(false);
        Endpoint = Need(env, "S3_ENDPOINT");
        AccessKey = Need(env, "S3_ACCESS_KEY");
        SecretKey = Need(env, "S3_SECRET_KEY");
        Region = Need(env, "S3_REGION");
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
        try
        {
            using var all = new S3ObjectStore(Options());
            var keys = new List<string>();
            await foreach (var (key, _) in all.ListAsync("")) keys.Add(key);
            foreach (var key in keys) await all.DeleteAsync(key);
            using var client = new Amazon.S3.AmazonS3Client(AccessKey, SecretKey, new Amazon.S3.AmazonS3Config
            {
                ServiceURL = Endpoint,
                ForcePathStyle = true,
                AuthenticationRegion = Region,
            });
            await client.DeleteBucketAsync(Bucket);
        }
        catch (Exception e) when (e is ObjectStoreException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            // cleanup only; a leftover bucket is harmless
        }
    }

    private static string Need(Dictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new InvalidOperationException($"s3-ceph start did not print {name}");

    /// <summary>Runs the start script and parses its <c>export NAME=value</c> lines.</summary>
    private static async Task<Dictionary<string, string>> Start()
    {
        var script = Path.Combine(RepoRoot(), "..", "shared", "tools", "s3-ceph", "s3-ceph");
        if (!File.Exists(script)) throw new InvalidOperationException($"s3-ceph not found at {Path.GetFullPath(script)} (set NFSGATE_SKIP_S3=1 to skip the S3 tests)");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("start");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not run bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"s3-ceph start did not finish within {StartTimeout}: {await stderr.ConfigureAwait(false)}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"s3-ceph start failed (exit {process.ExitCode}; set NFSGATE_SKIP_S3=1 to skip the S3 tests): {await stderr.ConfigureAwait(false)}");
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in (await stdout.ConfigureAwait(false)).Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("export ", StringComparison.Ordinal)) continue;
            int eq = line.IndexOf('=');
            if (eq < 0) continue;
            env[line[7..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        return env;
    }

    /// <summary>The directory holding NfsGate.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NfsGate.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"NfsGate.sln not found above {AppContext.BaseDirectory}");
    }
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
