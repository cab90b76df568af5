using Microsoft.Extensions.Logging;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;

namespace NfsGate.Server.Hosting;

/// <summary>
/// Cluster membership through the shared metadata engine: every gateway upserts its heartbeat row
/// (<see cref="MembershipRecord"/>) every <see cref="HeartbeatInterval"/>; a node seen within <see cref="LiveWindow"/> is
/// live. No node is special and nothing else is coordinated: gateways are stateless apart from their unstable writes,
/// so membership only feeds `nfsgate status`, metrics (<see cref="LiveNodes"/>) and per-node shares of cluster-wide caps
/// (<see cref="LiveNodesChanged"/>).
/// <para>
/// The heartbeat is a blind write of the node's own key (no reads in that transaction), so heartbeats of different
/// nodes never conflict under SERIALIZABLE; the list is read in a separate snapshot.
/// </para>
/// </summary>
public sealed partial class Membership : IAsyncDisposable
{
    /// <summary>3 s: a dead node is noticed within ~15 s, and N nodes cost N/3 tiny upserts per second.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(3);
    /// <summary>Five missed heartbeats: one slow transaction or a GC pause does not flap a node to dead.</summary>
    public static readonly TimeSpan LiveWindow = TimeSpan.FromSeconds(15);
    /// <summary>Rows of nodes gone for a day are deleted, so `status` does not list every container ever started.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);
    /// <summary>Heartbeat rows read at most: far more gateways than one engine serves.</summary>
    public const int MaxNodes = 4096;

    readonly IKvStore _kv;
    readonly ILogger _log;
    readonly TimeProvider _time;
    readonly CancellationTokenSource _stop = new();
    readonly MembershipRecord _self;
    Task _loop = Task.CompletedTask;
    volatile IReadOnlyList<MembershipRecord> _nodes = [];
    int _liveNodes = 1;

    Membership(IKvStore kv, MembershipRecord self, ILogger log, TimeProvider time)
    {
        _kv = kv;
        _self = self;
        _log = log;
        _time = time;
    }

    /// <summary>This node's id (host name + NFS address unless given).</summary>
    public string NodeId => _self.Id;

    /// <summary>Live nodes as of the last heartbeat, this one included (so never below 1).</summary>
    public int LiveNodes => Volatile.Read(ref _liveNodes);

    /// <summary>Every heartbeat row as of the last heartbeat, live or not.</summary>
    public IReadOnlyList<MembershipRecord> Nodes => _nodes;

    /// <summary>Raised (on the heartbeat thread) with the new count when nodes join or leave.</summary>
    public event Action<int>? LiveNodesChanged;

    public static string DefaultNodeId(string nfsAddress) => $"{Environment.MachineName}/{nfsAddress}";

    /// <summary>Writes the first heartbeat before returning (the node is listed once it serves), then beats in the background.</summary>
    public static Membership Start(IKvStore kv, string nodeId, string nfsAddress, string? httpAddress, ILogger log, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var m = new Membership(kv, new MembershipRecord(nodeId, nfsAddress, httpAddress, Program.VersionText, now, now), log, time);
        m.Beat();
        m._loop = Task.Run(m.RunAsync);
        Log.Joined(log, nodeId, m.LiveNodes);
        return m;
    }

    async Task RunAsync()
    {
        using var timer = new PeriodicTimer(HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    Beat();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The engine is unreachable: /readyz already says so; keep trying, the row just ages.
                    Log.HeartbeatFailed(_log, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One heartbeat: upsert our row, re-read the list, forget long-dead rows.</summary>
    public void Beat()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var row = (_self with { LastSeenMs = now }).Encode();
        var key = Keys.Node(_self.Id);
        _kv.Transact(t => { t.Set(key, row); return 0; });
        var all = ReadAll(_kv);
        var nodes = all.Where(n => n.Record is not null).Select(n => n.Record!).ToList();
        _nodes = nodes;
        int live = Math.Max(1, nodes.Count(n => n.IsLive(now)));
        int before = Interlocked.Exchange(ref _liveNodes, live);
        if (before != live)
        {
            Log.LiveNodesChanged(_log, before, live);
            LiveNodesChanged?.Invoke(live);
        }
        long forgetBefore = now - (long)ForgetAfter.TotalMilliseconds;
        var gone = nodes.Where(n => n.LastSeenMs < forgetBefore).Select(n => Keys.Node(n.Id)).ToList();
        if (gone.Count > 0)
            _kv.Transact(t => { foreach (var k in gone) t.Delete(k); return 0; });
    }

    /// <summary>Every heartbeat row (Record null when this version cannot read it), in key order.</summary>
    public static IReadOnlyList<(string Key, MembershipRecord? Record)> ReadAll(IKvStore kv) =>
        kv.Read(r => r.Scan(Keys.NodesStart, Keys.NodesEnd, MaxNodes))
          .Select(kv => (System.Text.Encoding.UTF8.GetString(kv.Key.AsSpan(1)), MembershipRecord.Decode(kv.Value)))
          .ToList();

    /// <summary>Stops beating and removes our row, so the others count one node less at once instead of after the live window.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        try
        {
            var key = Keys.Node(_self.Id);
            _kv.Transact(t => { t.Delete(key); return 0; });
        }
        catch (Exception e)
        {
            Log.HeartbeatFailed(_log, e);
        }
        _stop.Dispose();
    }

    static partial class Log
    {
        [LoggerMessage(EventId = 8101, Level = LogLevel.Information, Message = "cluster: joined as {NodeId}, {Live} live node(s)")]
        public static partial void Joined(ILogger logger, string nodeId, int live);

        [LoggerMessage(EventId = 8102, Level = LogLevel.Information, Message = "cluster: live nodes {Before} -> {After}")]
        public static partial void LiveNodesChanged(ILogger logger, int before, int after);

        [LoggerMessage(EventId = 8103, Level = LogLevel.Warning, Message = "cluster: heartbeat failed")]
        public static partial void HeartbeatFailed(ILogger logger, Exception e);
    }
}
