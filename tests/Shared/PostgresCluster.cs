using System.Diagnostics;

namespace NfsGate.TestShared;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for the tests of the shared metadata engine: initdb into a temp directory, then
/// pg_ctl start on 127.0.0.1 and a free port, one per test process, stopped (and its directory removed) when the process
/// exits. initdb refuses to run as root (CI runs as root), so as root the cluster is created and run by the
/// <c>postgres</c> user that Debian's postgresql package makes. Linked into each test project that needs it (tests/Shared).
/// </summary>
internal static class PostgresCluster
{
    /// <summary>NFSGATE_SKIP_PG=1: start nothing; tests marked as needing PostgreSQL are skipped.</summary>
    public static bool SkipRequested => Environment.GetEnvironmentVariable("NFSGATE_SKIP_PG") == "1";

    public const string BinDir = "/usr/lib/postgresql/15/bin";
    private const string Prefix = "nfsgate-pg-";

    private static readonly Lazy<Instance> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string to the cluster's "postgres" database (superuser, trust auth on loopback).</summary>
    public static string ConnectionString => Shared.Value.ConnectionString;

    public static int Port => Shared.Value.Port;

    /// <summary>A new empty database in the cluster (for a test that runs whole gateways, whose table name is fixed).</summary>
    public static string NewDatabase()
    {
        string name = "db_" + Guid.NewGuid().ToString("N")[..16];
        using (var conn = new Npgsql.NpgsqlConnection(ConnectionString))
        {
            conn.Open();
            using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", conn);
            cmd.ExecuteNonQuery();
        }
        return ConnectionString.Replace("Database=postgres", "Database=" + name, StringComparison.Ordinal);
    }

    private sealed record Instance(string Dir, int Port, string ConnectionString);

    private static bool IsRoot => Environment.UserName == "root";

    private static Instance Start()
    {
        if (!File.Exists(Path.Combine(BinDir, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 not found in {BinDir}: run tests/install-deps.sh (or set NFSGATE_SKIP_PG=1)");
        StopLeftovers();
        var dir = Path.Combine(Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (IsRoot) Run("chown", ["postgres:postgres", dir], asPostgres: false);
        var data = Path.Combine(dir, "data");
        // --no-sync and fsync=off: a throwaway cluster; the tests check semantics, not survival of a power cut.
        Run(Path.Combine(BinDir, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], IsRoot);
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePorts.Pick();
            var options = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300";
            try
            {
                Run(Path.Combine(BinDir, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "start"], IsRoot);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                continue; // someone took the port between our probe and postgres' bind
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(dir);
            return new Instance(dir, port, $"Host=127.0.0.1;Port={port};Database=postgres;Username=postgres;Timeout=30;Command Timeout=60");
        }
    }

    private static void Stop(string dir)
    {
        try
        {
            Run(Path.Combine(BinDir, "pg_ctl"), ["-D", Path.Combine(dir, "data"), "-m", "immediate", "-w", "stop"], IsRoot);
        }
        catch (InvalidOperationException)
        {
            // Already stopped: fall through to the cleanup.
        }
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A test process killed before its exit handler ran leaves a running cluster behind: stop those whose owner is gone.</summary>
    private static void StopLeftovers()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            try
            {
                var pidFile = Path.Combine(dir, "owner.pid");
                if (!File.Exists(pidFile)) continue;
                int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (Directory.Exists($"/proc/{pid}")) continue;
                Stop(dir);
            }
            catch (FormatException) { }
            catch (IOException) { }
        }
    }

    /// <summary>Runs a command (as the postgres user when we are root) and throws with its output if it fails.</summary>
    private static void Run(string file, IReadOnlyList<string> args, bool asPostgres)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        // pg_ctl start leaves the postmaster holding inherited pipes open: read the output asynchronously and do not wait
        // for its end, only for the command's exit.
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} timed out");
        }
        if (p.ExitCode != 0)
        {
            string output = (stdout.IsCompleted ? stdout.Result : "") + (stderr.IsCompleted ? stderr.Result : "");
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({p.ExitCode}): {output}");
        }
    }
}

/// <summary>A fact that needs PostgreSQL: skipped when NFSGATE_SKIP_PG=1, otherwise the test starts its own cluster.</summary>
public sealed class PgFactAttribute : FactAttribute
{
    public PgFactAttribute()
    {
        if (PostgresCluster.SkipRequested) Skip = "NFSGATE_SKIP_PG=1";
    }
}

/// <summary>A theory that needs PostgreSQL: skipped when NFSGATE_SKIP_PG=1.</summary>
public sealed class PgTheoryAttribute : TheoryAttribute
{
    public PgTheoryAttribute()
    {
        if (PostgresCluster.SkipRequested) Skip = "NFSGATE_SKIP_PG=1";
    }
}
