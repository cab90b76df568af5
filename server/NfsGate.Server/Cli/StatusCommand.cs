using System.Globalization;
using NfsGate.Metadata.Kv;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;

namespace NfsGate.Server.Cli;

/// <summary>
/// <c>nfsgate status</c>: the cluster's gateways, read straight from the metadata engine's heartbeat rows
/// (<see cref="Membership"/>), so it works from any machine that can reach the engine and needs no gateway to answer.
/// With RocksDB the running server holds the database lock; a single node is its own cluster then.
/// </summary>
public static class StatusCommand
{
    public static int Run(GatewayConfig config, TextWriter stdout, TextWriter stderr, TimeProvider? time = null)
    {
        if (config.Metadata.Engine == MetadataEngine.Memory)
        {
            stderr.WriteLine("nfsgate status: the metadata engine is \"memory\": there is no shared state to read");
            return Program.ExitUsage;
        }
        IKvStore kv;
        try
        {
            kv = StoreOpener.OpenMetadata(config.Metadata);
        }
        catch (IOException e) when (e.Message.Contains("in use", StringComparison.Ordinal))
        {
            stderr.WriteLine($"nfsgate status: {e.Message}: a single RocksDB gateway is running (one node); a cluster needs engine \"postgres\"");
            return Program.ExitFailure;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            stderr.WriteLine($"nfsgate status: cannot reach the metadata engine: {e.Message}");
            return Program.ExitFailure;
        }
        using (kv)
        {
            long now = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
            var rows = Membership.ReadAll(kv);
            Print(rows, now, stdout);
            return rows.Any(r => r.Record?.IsLive(now) == true) ? Program.ExitOk : Program.ExitFailure;
        }
    }

    /// <summary>One line per node, then "N nodes, M live".</summary>
    public static void Print(IReadOnlyList<(string Key, MembershipRecord? Record)> rows, long nowMs, TextWriter w)
    {
        w.WriteLine($"{"NODE",-40} {"NFS",-22} {"HTTP",-22} {"STATE",-6} {"LAST SEEN",-10} STARTED (UTC)");
        int live = 0;
        foreach (var (key, r) in rows)
        {
            if (r is null)
            {
                w.WriteLine($"{key,-40} (unreadable heartbeat row: written by a newer nfsgate?)");
                continue;
            }
            bool isLive = r.IsLive(nowMs);
            if (isLive) live++;
            string started = DateTimeOffset.FromUnixTimeMilliseconds(r.StartedMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            w.WriteLine($"{r.Id,-40} {r.NfsAddress,-22} {r.HttpAddress ?? "-",-22} {(isLive ? "live" : "dead"),-6} {Ago(nowMs - r.LastSeenMs),-10} {started}");
        }
        w.WriteLine($"{rows.Count} node(s), {live} live");
    }

    static string Ago(long ms) =>
        ms < 0 ? "now" : ms < 120_000 ? $"{ms / 1000}s ago" : ms < 7_200_000 ? $"{ms / 60_000}m ago" : $"{ms / 3_600_000}h ago";
}
