using System.Diagnostics;
using NfsGate.Metadata;
using NfsGate.Protocol;
using NfsGate.TestKit;

namespace NfsGate.LoadGen;

/// <summary>Creates the data the loads need, through NFS itself, so both servers get it the same way.</summary>
internal static class Setup
{
    /// <summary>write: a file of --size random bytes in 1 MiB UNSTABLE WRITEs (8 outstanding), then COMMIT.</summary>
    public static async Task<int> WriteAsync(Args a)
    {
        long size = a.Long("size", 1L << 30);
        const int Piece = 1 << 20, Depth = 8;
        string name = a.Str("file", "hot");
        var target = await Target.OpenAsync(a).ConfigureAwait(false);
        await using var c = await target.ConnectAsync().ConfigureAwait(false);
        var created = await c.CreateAsync(target.Root, name).ConfigureAwait(false);
        if (created.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"create {name}: {created.Status}");
        byte[] fh = created.Handle!;
        long next = 0, failed = 0;
        var sync = new Lock();
        var sw = Stopwatch.StartNew();
        async Task Worker(int seed)
        {
            var rnd = new Random(seed);
            var buf = new byte[Piece];
            while (true)
            {
                long off;
                lock (sync) { off = next; next += Piece; }
                if (off >= size) return;
                int n = (int)Math.Min(Piece, size - off);
                rnd.NextBytes(buf.AsSpan(0, n));
                var w = await c.WriteAsync(fh, (ulong)off, buf.AsMemory(0, n), StableHow3.UNSTABLE).ConfigureAwait(false);
                if (w.Status != NfsStat3.NFS3_OK || w.Count != n) { Interlocked.Increment(ref failed); return; }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Depth).Select(i => Worker(i + 1))).ConfigureAwait(false);
        var commit = await c.CommitAsync(fh).ConfigureAwait(false);
        if (failed > 0 || commit.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"write {name}: {failed} failed writes, commit {commit.Status}");
        Report.Emit("setup-write", size / sw.Elapsed.TotalSeconds / 1e6, "MB/s", ("bytes", size));
        return 0;
    }

    /// <summary>mkfiles: directory --dir with --count empty files, created over --conns connections, 8 outstanding each.</summary>
    public static async Task<int> MkFilesAsync(Args a)
    {
        int count = a.Int("count", 100_000), conns = a.Int("conns", 4);
        string dir = a.Str("dir", "big");
        var target = await Target.OpenAsync(a).ConfigureAwait(false);
        var clients = await target.ConnectManyAsync(conns).ConfigureAwait(false);
        try
        {
            var made = await clients[0].MkdirAsync(target.Root, dir, new SetAttrRequest { Mode = 0x1ED }).ConfigureAwait(false);
            if (made.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"mkdir {dir}: {made.Status}");
            byte[] dh = made.Handle!;
            int next = -1, failed = 0;
            var sw = Stopwatch.StartNew();
            var workers = clients.SelectMany(c => Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var r = await c.CreateAsync(dh, $"f{i:D6}", CreateMode3.UNCHECKED, new SetAttrRequest { Mode = 0x1A4 }).ConfigureAwait(false);
                    if (r.Status != NfsStat3.NFS3_OK) Interlocked.Increment(ref failed);
                }
            }))).ToArray();
            await Task.WhenAll(workers).ConfigureAwait(false);
            Report.Emit("setup-mkfiles", count / sw.Elapsed.TotalSeconds, "ops/s", ("count", count), ("failed", failed));
            return failed == 0 ? 0 : 1;
        }
        finally
        {
            await Target.DisposeAllAsync(clients).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// rmfiles: REMOVE the first --count files mkfiles made in --dir, one call in flight by default, as the guest's
    /// `rm` loop sends them: each waits for the server's durable commit.
    /// </summary>
    public static async Task<int> RmFilesAsync(Args a)
    {
        int count = a.Int("count", 10_000), depth = a.Int("depth", 1);
        string dir = a.Str("dir", "big");
        var target = await Target.OpenAsync(a).ConfigureAwait(false);
        await using var c = await target.ConnectAsync().ConfigureAwait(false);
        var found = await c.LookupAsync(target.Root, dir).ConfigureAwait(false);
        if (found.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"lookup {dir}: {found.Status}");
        byte[] dh = found.Handle!;
        int next = -1, failed = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, depth).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
                if ((await c.RemoveAsync(dh, $"f{i:D6}").ConfigureAwait(false)).Status != NfsStat3.NFS3_OK) Interlocked.Increment(ref failed);
        }))).ConfigureAwait(false);
        Report.Emit(a.Str("label", "rmfiles"), count / sw.Elapsed.TotalSeconds, "ops/s", ("count", count), ("failed", failed));
        return failed == 0 ? 0 : 1;
    }
}
