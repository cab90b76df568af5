using System.Diagnostics;
using Amazon.S3.Model;

namespace NfsGate.LoadGen;

/// <summary>
/// Raw S3 GET throughput, the ceiling for a cold read through the gateway: the objects named in --keys (one per
/// line; the block objects nfsgate wrote for a file), fetched whole with --conns GETs in flight, in key order (the
/// order a sequential reader needs them), with the client settings of nfsgate's S3ObjectStore.
/// With --ranged each GET asks for bytes=0-4259840 as nfsgate's block cache does (one byte past its 4 MiB + 64 KiB
/// cap), to tell a ranged GET's cost from a whole-object GET's. With --save-keys FILE it only lists the bucket
/// (under --prefix) into FILE.
/// </summary>
internal static class S3Get
{
    public static async Task<int> RunAsync(Args a)
    {
        int conns = a.Int("conns", 4);
        using var s3 = S3Admin.Client(a, conns);
        string bucket = a.Str("bucket");
        if (a.Flag("save-keys"))
        {
            var listed = await S3Admin.ListAsync(s3, bucket, a.Str("prefix", "")).ConfigureAwait(false);
            await File.WriteAllLinesAsync(a.Str("save-keys"), listed).ConfigureAwait(false);
            Report.Emit("s3-keys", listed.Count, "objects");
            return listed.Count > 0 ? 0 : 1;
        }
        bool ranged = a.Flag("ranged");
        var keys = (await File.ReadAllLinesAsync(a.Str("keys")).ConfigureAwait(false)).Where(k => k.Length > 0).ToArray();
        int next = -1;
        long total = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, conns).Select(_ => Task.Run(async () =>
        {
            var buf = new byte[1 << 20];
            int i;
            while ((i = Interlocked.Increment(ref next)) < keys.Length)
            {
                var request = new GetObjectRequest { BucketName = bucket, Key = keys[i] };
                if (ranged) request.ByteRange = new ByteRange(0, (4 << 20) + (64 << 10));
                using var r = await s3.GetObjectAsync(request).ConfigureAwait(false);
                int n;
                while ((n = await r.ResponseStream.ReadAsync(buf).ConfigureAwait(false)) > 0) Interlocked.Add(ref total, n);
            }
        }))).ConfigureAwait(false);
        double elapsed = sw.Elapsed.TotalSeconds;
        Report.Emit(a.Str("label", $"s3-get-{conns}c"), total / elapsed / 1e6, "MB/s", ("bytes", total), ("objects", keys.Length), ("seconds", Math.Round(elapsed, 2)));
        return 0;
    }
}
