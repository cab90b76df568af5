using System.Diagnostics;
using NfsGate.Protocol;

namespace NfsGate.LoadGen;

/// <summary>
/// Random small FILE_SYNC writes into an existing file (--file, default "hot"): --conns connections, each with --depth
/// WRITEs outstanding, for --seconds. This is what the kernel client sends for fio's O_DIRECT 4 KiB random writes
/// (each a stable WRITE, no COMMIT), with more in flight than the emulated guest can keep. Reports WRITEs/s.
/// </summary>
internal static class RandWriteLoad
{
    public static async Task<int> RunAsync(Args a)
    {
        int conns = a.Int("conns", 1), depth = a.Int("depth", 16);
        int block = (int)a.Long("block", 4096);
        double seconds = a.Double("seconds", 5);
        var stable = a.Str("stable", "file") == "unstable" ? StableHow3.UNSTABLE : StableHow3.FILE_SYNC;
        await using var file = await TargetFile.OpenAsync(a, conns).ConfigureAwait(false);
        var (clients, fh) = (file.Clients, file.Handle);
        long blocks = (long)file.Size / block;
        if (blocks == 0) throw new InvalidOperationException($"{file.Name} is smaller than one {block} B block");
        long writes = 0, errors = 0;
        var deadline = TimeSpan.FromSeconds(seconds);
        var sw = Stopwatch.StartNew();
        var workers = clients.SelectMany((c, ci) => Enumerable.Range(0, depth).Select(d => Task.Run(async () =>
        {
            var rnd = new Random(ci * 1000 + d + 1);
            var buf = new byte[block];
            while (sw.Elapsed < deadline)
            {
                rnd.NextBytes(buf);
                ulong off = (ulong)(rnd.NextInt64(blocks) * block);
                var w = await c.WriteAsync(fh, off, buf, stable).ConfigureAwait(false);
                if (w.Status != NfsStat3.NFS3_OK || w.Count != block) { Interlocked.Increment(ref errors); return; }
                Interlocked.Increment(ref writes);
            }
        }))).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        if (stable == StableHow3.UNSTABLE) await clients[0].CommitAsync(fh).ConfigureAwait(false);
        double elapsed = sw.Elapsed.TotalSeconds;
        Report.Emit(a.Str("label", $"randwrite-{conns}c{depth}d"), writes / elapsed, "IOPS",
            ("writes", writes), ("seconds", Math.Round(elapsed, 2)), ("errors", errors), ("depth", depth));
        return errors == 0 ? 0 : 1;
    }
}
