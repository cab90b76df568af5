using System.Diagnostics;
using NfsGate.Protocol;
using NfsGate.TestKit;

namespace NfsGate.LoadGen;

/// <summary>
/// Small-call rate: --conns connections, each with --depth calls outstanding (pipelined on the one socket), for
/// --seconds after a one-second warm-up. GETATTR of a file, or LOOKUP of its name in the export root.
/// </summary>
internal static class OpsLoad
{
    public static async Task<int> RunAsync(Args a)
    {
        string op = a.Str("op");
        int conns = a.Int("conns", 64), depth = a.Int("depth", 4);
        double seconds = a.Double("seconds", 10);
        await using var file = await TargetFile.OpenAsync(a, conns).ConfigureAwait(false);
        var (target, clients, fh, name) = (file.Target, file.Clients, file.Handle, file.Name);
        Func<Nfs3Client, Task<bool>> call = op switch
        {
            "getattr" => async c => (await c.GetAttrAsync(fh).ConfigureAwait(false)).Status == NfsStat3.NFS3_OK,
            "lookup" => async c => (await c.LookupAsync(target.Root, name).ConfigureAwait(false)).Status == NfsStat3.NFS3_OK,
            _ => throw new ArgumentException($"--op {op}: getattr or lookup"),
        };
        long done = 0, failed = 0;
        bool counting = false;
        using var stop = new CancellationTokenSource();
        var loops = new List<Task>();
        foreach (var c in clients)
            for (int d = 0; d < depth; d++)
                loops.Add(Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        bool ok = await call(c).ConfigureAwait(false);
                        if (!Volatile.Read(ref counting)) continue;
                        if (ok) Interlocked.Increment(ref done); else Interlocked.Increment(ref failed);
                    }
                }));
        await Task.Delay(1000).ConfigureAwait(false); // warm-up: connections, caches, JIT
        var sw = Stopwatch.StartNew();
        Volatile.Write(ref counting, true);
        await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
        Volatile.Write(ref counting, false);
        double elapsed = sw.Elapsed.TotalSeconds;
        long n = Interlocked.Read(ref done), bad = Interlocked.Read(ref failed);
        stop.Cancel();
        await Task.WhenAll(loops).ConfigureAwait(false);
        Report.Emit($"{op}-{conns}c", n / elapsed, "ops/s", ("failed", bad), ("depth", depth), ("seconds", Math.Round(elapsed, 2)));
        return bad == 0 ? 0 : 1;
    }
}
