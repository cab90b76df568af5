using System.Diagnostics;
using NfsGate.Data;
using NfsGate.Data.S3;

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
    public static bool SkipRequested => Environment.GetEnvironmentVariable("NFSGATE_SKIP_S3") == "1";

    /// <summary>The very first start installs Ceph from Debian packages (about 17 minutes); later ones take seconds.</summary>
    static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(30);

    public string Endpoint { get; private set; } = "";
    public string AccessKey { get; private set; } = "";
    public string SecretKey { get; private set; } = "";
    public string Region { get; private set; } = "";

    /// <summary>Unique to the run, so runs on one shared server never see each other's objects.</summary>
    public string Bucket { get; } = $"nfsgate-srv-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    public async Task InitializeAsync()
    {
        if (SkipRequested) return;
        var env = await Start();
        Endpoint = Need(env, "S3_ENDPOINT");
        AccessKey = Need(env, "S3_ACCESS_KEY");
        SecretKey = Need(env, "S3_SECRET_KEY");
        Region = Need(env, "S3_REGION");
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
        try
        {
            using var all = Direct();
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
            // Cleanup only: a leftover bucket on the test server is harmless.
        }
    }

    static string Need(Dictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new InvalidOperationException($"s3-ceph start did not print {name}");

    static async Task<Dictionary<string, string>> Start()
    {
        var script = Path.Combine(RepoRoot(), "..", "shared", "tools", "s3-ceph", "s3-ceph");
        if (!File.Exists(script))
            throw new InvalidOperationException($"s3-ceph not found at {Path.GetFullPath(script)} (set NFSGATE_SKIP_S3=1 to skip the S3 tests)");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("start");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not run bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"s3-ceph start did not finish within {StartTimeout}: {await stderr}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"s3-ceph start failed (exit {process.ExitCode}; set NFSGATE_SKIP_S3=1 to skip the S3 tests): {await stderr}");
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in (await stdout).Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("export ", StringComparison.Ordinal)) continue;
            int eq = line.IndexOf('=');
            if (eq < 0) continue;
            env[line[7..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        return env;
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NfsGate.sln"))) return dir.FullName;
        throw new InvalidOperationException($"NfsGate.sln not found above {AppContext.BaseDirectory}");
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
