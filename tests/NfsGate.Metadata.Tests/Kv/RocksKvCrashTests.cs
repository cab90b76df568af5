using System.Diagnostics;
using NfsGate.Metadata.RocksDb;

namespace NfsGate.Metadata.Tests.Kv;

/// <summary>
/// kill -9 in the middle of a stream of commits (tests/NfsGate.KvCrashHelper is the child). Every number the child
/// printed was committed before it was printed, so after the kill every printed number must be in the store,
/// and the per-transaction invariants must hold (no torn transaction).
/// </summary>
public sealed class RocksKvCrashTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_acknowledged_commit_survives_kill_9()
    {
        var db = Path.Combine(_dir.Path, "db");
        long printed = 0;
        // First durable commits, then non-durable ones on the recovered store: those must survive a process kill
        // too (the WAL write is in the OS page cache), and recovering an already recovered store must work. The last
        // run goes on through several memtable switches (the helper's memtable is 256 KiB, ~900 commits), so it is
        // killed while writing into reused WAL files, whose old records recovery must not take for new ones.
        string[] modes = ["durable", "fast", "durable"];
        long[] upTo = [50, 100, 4000];
        for (int run = 0; run < modes.Length; run++)
        {
            printed = Math.Max(printed, RunAndKill(db, modes[run], upTo[run]));
            using var s = new RocksKvStore(db);
            var (count, a, b, keys, contiguous) = s.Read(r =>
            {
                var ks = r.Scan("n/"u8, "n0"u8, int.MaxValue);
                bool ok = true;
                for (int i = 0; i < ks.Count; i++)
                    ok &= System.Text.Encoding.ASCII.GetString(ks[i].Key) == $"n/{i + 1:D10}";
                return (L(r.Get("count"u8)), L(r.Get("a"u8)), L(r.Get("b"u8)), ks.Count, ok);
            });
            Assert.True(count >= printed, $"{modes[run]}: printed {printed} but only {count} survived");
            Assert.Equal(count, keys);
            Assert.True(contiguous);
            Assert.Equal(count, b);
            Assert.Equal(0, a + b);
        }
    }

    private static long L(byte[]? v) => v is { Length: 8 } ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(v) : 0;

    /// <summary>Runs the child until it printed at least <paramref name="atLeast"/>, SIGKILLs it, returns the highest number printed.</summary>
    private static long RunAndKill(string db, string mode, long atLeast)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(HelperDll());
        psi.ArgumentList.Add(db);
        psi.ArgumentList.Add(mode);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        long last = 0;
        try
        {
            while (last < atLeast)
            {
                var line = p.StandardOutput.ReadLine();
                if (line is null) Assert.Fail($"helper exited early (code {(p.WaitForExit(5000) ? p.ExitCode : -1)}): {stderr.Result}");
                last = long.Parse(line!);
            }
        }
        finally
        {
            p.Kill(entireProcessTree: true); // SIGKILL on Linux
        }
        // Lines already in the pipe were printed after their commit returned: they count too.
        string? rest;
        while ((rest = p.StandardOutput.ReadLine()) is not null)
            if (long.TryParse(rest, out var n)) last = Math.Max(last, n);
        p.WaitForExit();
        return last;
    }

    /// <summary>
    /// The helper's build output. Its project sits next to this one; the test uses the same configuration
    /// (Debug/Release) as itself. Build it first: dotnet build tests/NfsGate.KvCrashHelper.
    /// </summary>
    private static string HelperDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var local = Path.Combine(baseDir.FullName, "NfsGate.KvCrashHelper.dll");
        if (File.Exists(local) && File.Exists(Path.ChangeExtension(local, ".runtimeconfig.json"))) return local;
        string tfm = baseDir.Name, config = baseDir.Parent!.Name;
        for (var d = baseDir; d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "NfsGate.KvCrashHelper", "bin", config, tfm, "NfsGate.KvCrashHelper.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("NfsGate.KvCrashHelper is not built: run `dotnet build tests/NfsGate.KvCrashHelper`");
    }
}
