using System.Diagnostics;
using NfsGate.TestShared;

namespace NfsGate.Data.Tests.S3;

/// <summary>
/// A second RADOS Gateway over the s3-ceph cluster, on its own port, that accepts the STANDARD_IA storage class.
/// <para>
/// RGW refuses a PUT with a class its zonegroup placement does not define (400 InvalidArgument), and s3-ceph defines
/// only STANDARD. radosgw-admin adds STANDARD_IA to the default placement (idempotent; it stores it in the default
/// data pool), but a running gateway reads its zonegroup only at startup, and restarting the shared one would break
/// other test runs using it. So this starts a gateway of its own (~2 s), which sees the class, and kills it after.
/// The shared gateway picks the class up at its next restart, which changes nothing for anyone else.
/// </para>
/// </summary>
internal sealed class ColdClassGateway : IAsyncDisposable
{
    public const string StorageClass = "STANDARD_IA";

    private readonly Process _process;
    private readonly string _dir;

    public string Endpoint { get; }

    private ColdClassGateway(Process process, string dir, string endpoint) => (_process, _dir, Endpoint) = (process, dir, endpoint);

    /// <summary>Where s3-ceph keeps its state (its script's default unless S3_CEPH_DIR says otherwise).</summary>
    private static string CephConf() =>
        Path.Combine(Environment.GetEnvironmentVariable("S3_CEPH_DIR") is { Length: > 0 } d ? d : "/tmp/s3-ceph", "ceph.conf");

    public static async Task<ColdClassGateway> StartAsync()
    {
        var conf = CephConf();
        if (!File.Exists(conf)) throw new InvalidOperationException($"no s3-ceph cluster at {conf} (the S3 fixture starts it)");
        await RunAsync("radosgw-admin", "-c", conf, "zonegroup", "placement", "add", "--rgw-zonegroup", "default",
            "--placement-id", "default-placement", "--storage-class", StorageClass);
        await RunAsync("radosgw-admin", "-c", conf, "zone", "placement", "add", "--rgw-zone", "default",
            "--placement-id", "default-placement", "--storage-class", StorageClass, "--data-pool", "default.rgw.buckets.data");

        int port = FreePorts.Pick();
        var dir = Directory.CreateTempSubdirectory("nfsgate-rgw-").FullName;
        var psi = new ProcessStartInfo("radosgw") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            "-c", conf, "-n", $"client.rgw.nfsgate{port}", "-f",
            "--rgw_frontends", $"beast endpoint=127.0.0.1:{port} tcp_nodelay=1",
            "--rgw_data", dir, "--log_file", Path.Combine(dir, "rgw.log"), "--admin_socket", Path.Combine(dir, "rgw.asok"),
            "--rgw_thread_pool_size", "8",
            // As s3-ceph's own gateway: needed by RGW when cephx auth is off.
            "--ms_mon_client_mode", "crc secure", "--ms_client_mode", "crc secure",
        }) psi.ArgumentList.Add(arg);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start radosgw");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new ColdClassGateway(process, dir, $"http://127.0.0.1:{port}");
        try
        {
            await gateway.WaitReadyAsync();
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"radosgw exited with {_process.ExitCode}; see {_dir}/rgw.log");
            try
            {
                using var _ = await http.GetAsync(Endpoint);
                return; // any answer: it serves
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"radosgw on {Endpoint} did not answer within 90 s; see {_dir}/rgw.log");
            }
            await Task.Delay(100);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not run {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await stdout;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
