using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using NfsGate.Protocol;
using NfsGate.TestKit;

// qos-load COMMAND --option value ...  (one JSON line per result on stdout)
//   prepare --nfs H:P --path /export [--file data] [--size-mib 64]
//   read    --nfs H:P --path /export [--file data] --from 127.0.0.2[,127.0.0.3...] [--depth 8] [--seconds 20] [--block-kib 1024]
//           every --from address reads the file round and round with DEPTH calls in flight; prints each one's MiB/s
//   lower   --nfs H:P --path /export [--file data] --http H:P --export NAME --before 40MiB/s --after 10MiB/s [--at 5] [--seconds 10]
//           reads flat out, sets the read cap to BEFORE, at AT seconds PUTs AFTER, prints 100 ms buckets and when the rate obeyed
var opts = new Dictionary<string, string>();
for (int i = 1; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string k, string? d = null) => opts.TryGetValue(k, out var v) ? v : d ?? throw new ArgumentException($"--{k} is required");
var nfs = IPEndPoint.Parse(Opt("nfs"));
string path = Opt("path"), file = Opt("file", "data");
var inv = CultureInfo.InvariantCulture;

async Task<(Nfs3Client Client, byte[] Fh)> OpenAsync(IPAddress? from)
{
    var c = new Nfs3Client(await RawRpcClient.ConnectAsync(nfs, from));
    var root = await c.MountHandleAsync(path);
    var l = await c.LookupAsync(root, file);
    if (l.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"{path}/{file}: {l.Status} (run prepare first)");
    return (c, l.Handle!);
}

switch (args[0])
{
    case "prepare":
    {
        await using var c = new Nfs3Client(await RawRpcClient.ConnectAsync(nfs));
        var root = await c.MountHandleAsync(path);
        var created = await c.CreateAsync(root, file);
        if (created.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"create: {created.Status}");
        var buf = new byte[1 << 20];
        new Random(1).NextBytes(buf);
        int mib = int.Parse(Opt("size-mib", "64"), inv);
        for (int i = 0; i < mib; i++)
        {
            var w = await c.WriteAsync(created.Handle!, (ulong)i << 20, buf, StableHow3.UNSTABLE);
            if (w.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"write: {w.Status}");
        }
        await c.CommitAsync(created.Handle!);
        Console.WriteLine($"{{\"prepared\":\"{path}/{file}\",\"mib\":{mib}}}");
        return 0;
    }
    case "read":
    {
        var froms = Opt("from").Split(',').Select(IPAddress.Parse).ToArray();
        int depth = int.Parse(Opt("depth", "8"), inv), seconds = int.Parse(Opt("seconds", "20"), inv);
        uint block = uint.Parse(Opt("block-kib", "1024"), inv) * 1024;
        var clients = new List<(Nfs3Client C, byte[] Fh)>();
        foreach (var f in froms) clients.Add(await OpenAsync(f));
        var size = (await clients[0].C.GetAttrAsync(clients[0].Fh)).Attr!.Size;
        var bytes = new long[froms.Length];
        var jukebox = new long[froms.Length];
        var sw = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var tasks = new List<Task>();
        for (int ci = 0; ci < clients.Count; ci++)
        {
            for (int d = 0; d < depth; d++)
            {
                int k = ci, lane = d;
                tasks.Add(Task.Run(async () =>
                {
                    ulong off = (ulong)lane * block % size;
                    while (sw.Elapsed < end)
                    {
                        var r = await clients[k].C.ReadAsync(clients[k].Fh, off, block);
                        if (r.Status == NfsStat3.NFS3ERR_JUKEBOX) { Interlocked.Increment(ref jukebox[k]); await Task.Delay(100); continue; }
                        if (r.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"read: {r.Status}");
                        if (sw.Elapsed < end) Interlocked.Add(ref bytes[k], r.Count);
                        off = (off + (ulong)depth * block) % size;
                    }
                }));
            }
        }
        await Task.WhenAll(tasks);
        double secs = Math.Min(sw.Elapsed.TotalSeconds, seconds);
        for (int i = 0; i < froms.Length; i++)
            Console.WriteLine(string.Create(inv, $"{{\"from\":\"{froms[i]}\",\"path\":\"{path}\",\"seconds\":{secs:0.0},\"mibPerSecond\":{bytes[i] / secs / (1 << 20):0.00},\"jukebox\":{jukebox[i]}}}"));
        foreach (var (c, _) in clients) await c.DisposeAsync();
        return 0;
    }
    case "lower":
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Opt("http")}") };
        string export = Opt("export");
        async Task<double> PutAsync(string rate)
        {
            var sw0 = Stopwatch.StartNew();
            var content = new StringContent($"{{\"read\":\"{rate}\",\"burst\":\"250ms\"}}", Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            (await http.PutAsync($"/admin/qos/{export}", content)).EnsureSuccessStatusCode();
            return sw0.Elapsed.TotalMilliseconds;
        }
        string before = Opt("before"), after = Opt("after");
        double afterMiB = double.Parse(after.Replace("MiB/s", ""), inv);
        await PutAsync(before);
        int depth = int.Parse(Opt("depth", "8"), inv), seconds = int.Parse(Opt("seconds", "10"), inv);
        double at = double.Parse(Opt("at", "5"), inv);
        uint block = 1 << 20;
        var (c, fh) = await OpenAsync(null);
        var size = (await c.GetAttrAsync(fh)).Attr!.Size;
        const int BucketMs = 100;
        var buckets = new long[seconds * 1000 / BucketMs + 1];
        var sw = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var readers = Enumerable.Range(0, depth).Select(lane => Task.Run(async () =>
        {
            ulong off = (ulong)lane * block % size;
            while (sw.Elapsed < end)
            {
                var r = await c.ReadAsync(fh, off, block);
                if (r.Status == NfsStat3.NFS3ERR_JUKEBOX) { await Task.Delay(100); continue; }
                long ms = (long)sw.Elapsed.TotalMilliseconds;
                if (ms / BucketMs < buckets.Length) Interlocked.Add(ref buckets[ms / BucketMs], r.Count);
                off = (off + (ulong)depth * block) % size;
            }
        })).ToList();
        // Server side: the export's "admitted" counter every 100 ms. Every call here is a 1 MiB READ, so admitted calls
        // per second = MiB per second let through, whatever the loaded host does to the client's own timestamps.
        var admitted = new List<(double T, long N)>();
        var poll = Task.Run(async () =>
        {
            while (sw.Elapsed < end)
            {
                var j = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync($"/admin/qos/{export}"))!;
                lock (admitted) admitted.Add((sw.Elapsed.TotalSeconds, j["stats"]!["admitted"]!.GetValue<long>()));
                await Task.Delay(100);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(at));
        double changeAt = sw.Elapsed.TotalSeconds;
        double putMs = await PutAsync(after);
        await Task.WhenAll(readers);
        await poll;
        long AdmittedAt(double t) => admitted.Where(a => a.T <= t).Select(a => a.N).DefaultIfEmpty(0).Last();
        var serverSide = new StringBuilder();
        for (double t = changeAt - 2; t + 1 <= seconds - 0.2; t += 1)
            serverSide.Append(inv, $"{(serverSide.Length == 0 ? "" : ",")}{AdmittedAt(t + 1) - AdmittedAt(t)}");
        // The cap "took effect" at the start of the first 100 ms bucket from which every following 1 s window moves at
        // most AFTER x 1.1 plus one 1 MiB call (a call admitted just before the change may still complete in it).
        int first = (int)Math.Ceiling(changeAt * 1000 / BucketMs);
        int last = (int)((seconds - 1) * 1000 / BucketMs);
        int effect = -1;
        for (int b = first - 1; b <= last && effect < 0; b++)
        {
            bool ok = true;
            for (int s = b; s <= last && ok; s++)
            {
                long win = 0;
                for (int j = s; j < s + 1000 / BucketMs; j++) win += buckets[j];
                ok = win <= afterMiB * 1.1 * (1 << 20) + block;
            }
            if (ok) effect = b;
        }
        // Whole seconds from the change: what the client saw right after it (client-side timestamps: on a loaded host a
        // burst of completions can land late in one bucket, so the per-second view is steadier than 100 ms buckets).
        var perSecond = new StringBuilder();
        for (int s0 = first; s0 + 1000 / BucketMs <= last + 1; s0 += 1000 / BucketMs)
            perSecond.Append(inv, $"{(perSecond.Length == 0 ? "" : ",")}{buckets.Skip(s0).Take(1000 / BucketMs).Sum() / (double)(1 << 20):0.0}");
        var sb = new StringBuilder();
        for (int b = 0; b < buckets.Length - 1; b++) sb.Append(inv, $"{(b == 0 ? "" : ",")}{buckets[b] * 10.0 / (1 << 20):0}");
        double beforeRate = buckets.Take(first - 10).Skip(10).Sum() / ((first - 20) * BucketMs / 1000.0) / (1 << 20);
        double afterRate = buckets.Skip(first + 10).Take(last - first - 10).Sum() / ((last - first - 10) * BucketMs / 1000.0) / (1 << 20);
        Console.WriteLine(string.Create(inv,
            $"{{\"before\":\"{before}\",\"after\":\"{after}\",\"changeAtSeconds\":{changeAt:0.000},\"putMs\":{putMs:0.0},\"effectAfterMs\":{(effect < 0 ? -1 : effect * BucketMs - changeAt * 1000):0}," +
            $"\"rateBeforeMiB\":{beforeRate:0.00},\"rateAfterMiB\":{afterRate:0.00},\"mibEachSecondAfterChange\":[{perSecond}],\"serverAdmittedMiBEachSecondFromChangeMinus2s\":[{serverSide}],\"mibPerSecondPer100ms\":[{sb}]}}"));
        await c.DisposeAsync();
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: qos-load prepare|read|lower --option value ...");
        return 2;
}
