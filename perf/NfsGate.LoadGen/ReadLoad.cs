using System.Diagnostics;
using NfsGate.Protocol;

namespace NfsGate.LoadGen;

/// <summary>
/// READ throughput of one file: --conns connections, each reading the whole file sequentially in --block pieces with
/// --depth READs outstanding (as a kernel client's read-ahead would), all starting together. With --seconds the
/// readers loop over the file until the time is up instead of reading it once. Reports bytes read / wall time.
/// The READs go over <see cref="ReadConnection"/>s, which count the data without copying it out (as lean as the
/// kernel client, so the client's CPU does not set the rate on a machine it shares with the server).
/// </summary>
internal static class ReadLoad
{
    public static async Task<int> RunAsync(Args a)
    {
        int conns = a.Int("conns", 16), depth = a.Int("depth", 4);
        uint block = (uint)a.Long("block", 1 << 20);
        double seconds = a.Double("seconds", 0);
        ulong size;
        byte[] fh;
        System.Net.IPEndPoint nfs;
        await using (var file = await TargetFile.OpenAsync(a, 1).ConfigureAwait(false)) (fh, size, nfs) = (file.Handle, file.Size, file.Target.Nfs);
        var clients = new ReadConnection[conns];
        for (int i = 0; i < conns; i++) clients[i] = await ReadConnection.ConnectAsync(nfs, fh).ConfigureAwait(false);
        long total = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        var deadline = seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;
        var readers = clients.Select((c, idx) => Task.Run(async () =>
        {
            // Readers of a looping run start at different offsets so they do not march in lock step.
            ulong start = seconds > 0 ? (ulong)idx * size / (ulong)conns / block * block : 0;
            ulong next = 0; // offset relative to start, handed out to the depth workers in order
            var sync = new Lock();
            async Task Worker()
            {
                while (sw.Elapsed < deadline)
                {
                    ulong rel;
                    lock (sync) { rel = next; next += block; }
                    if (rel >= size && seconds <= 0) return;
                    ulong off = (start + rel) % size;
                    var r = await c.ReadAsync(off, block).ConfigureAwait(false);
                    // A short READ inside the file is an error too: the file is not being written, and it keeps the
                    // byte count (what the rate is made of) honest.
                    if (r.Status != NfsStat3.NFS3_OK || r.Count != Math.Min(block, size - off)) { Interlocked.Increment(ref errors); return; }
                    Interlocked.Add(ref total, r.Count);
                }
            }
            await Task.WhenAll(Enumerable.Range(0, depth).Select(_ => Worker())).ConfigureAwait(false);
        })).ToArray();
        await Task.WhenAll(readers).ConfigureAwait(false);
        double elapsed = sw.Elapsed.TotalSeconds;
        foreach (var c in clients) await c.DisposeAsync().ConfigureAwait(false);
        Report.Emit(a.Str("label", $"read-{conns}c"), total / elapsed / 1e6, "MB/s",
            ("bytes", total), ("seconds", Math.Round(elapsed, 2)), ("errors", errors), ("depth", depth));
        return errors == 0 ? 0 : 1;
    }
}
