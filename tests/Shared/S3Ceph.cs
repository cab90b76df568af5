using System.Diagnostics;
using NfsGate.Data;
using NfsGate.Data.S3;

namespace NfsGate.TestShared;

/// <summary>Where the test run's real S3 server (Ceph RGW) answers, and with which keys.</summary>
internal sealed record S3CephServerInfo(string Endpoint, string AccessKey, string SecretKey, string Region);

/// <summary>
/// Starts the real S3 server shared by every test project that needs one: <c>../shared/tools/s3-ceph/s3-ceph start</c>
/// relative to the repo root (the directory holding NfsGate.sln), and reads the <c>export S3_...=...</c> lines it
/// prints. <c>start</c> is idempotent: seconds when Ceph already runs; the very first start installs Ceph from Debian
/// packages (about 17 minutes here). Linked into each test project (tests/Shared), so there is one copy.
/// </summary>
internal static class S3Ceph
{
    /// <summary>NFSGATE_SKIP_S3=1: start nothing; tests marked as needing S3 are skipped.</summary>
    public static bool SkipRequested => Environment.GetEnvironmentVariable("NFSGATE_SKIP_S3") == "1";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(30);

    public static async Task<S3CephServerInfo> StartAsync()
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
        return new S3CephServerInfo(Need(env, "S3_ENDPOINT"), Need(env, "S3_ACCESS_KEY"), Need(env, "S3_SECRET_KEY"), Need(env, "S3_REGION"));
    }

    /// <summary>Empties and removes a run's bucket, leaving the shared server as the run found it. Cleanup only: errors are ignored.</summary>
    public static async Task DeleteBucketAsync(S3CephServerInfo s, string bucket)
    {
        try
        {
            using var all = new S3ObjectStore(new S3Options
            {
                Endpoint = s.Endpoint, Bucket = bucket, Region = s.Region, AccessKey = s.AccessKey, SecretKey = s.SecretKey, MaxRetries = 2,
            });
            var keys = new List<string>();
            await foreach (var (key, _) in all.ListAsync("")) keys.Add(key);
            foreach (var key in keys) await all.DeleteAsync(key);
            using var client = new Amazon.S3.AmazonS3Client(s.AccessKey, s.SecretKey, new Amazon.S3.AmazonS3Config
            {
                ServiceURL = s.Endpoint,
                ForcePathStyle = true,
                AuthenticationRegion = s.Region,
            });
            await client.DeleteBucketAsync(bucket);
        }
        catch (Exception e) when (e is ObjectStoreException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            // a leftover bucket on the test server is harmless
        }
    }

    /// <summary>The directory holding NfsGate.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NfsGate.sln"))) return dir.FullName;
        throw new InvalidOperationException($"NfsGate.sln not found above {AppContext.BaseDirectory}");
    }

    private static string Need(Dictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new InvalidOperationException($"s3-ceph start did not print {name}");
}
