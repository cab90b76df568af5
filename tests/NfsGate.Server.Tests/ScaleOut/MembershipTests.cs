using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Server.Cli;
using NfsGate.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace NfsGate.Server.Tests.ScaleOut;

/// <summary>Heartbeat rows on any engine (the in-memory one here): format, liveness, what status prints.</summary>
public sealed class MembershipTests
{
    sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Record_round_trips_and_garbage_decodes_to_null()
    {
        var r = new MembershipRecord("host/10.0.0.1:2049", "10.0.0.1:2049", null, "1.2.3", 1000, 2000);
        Assert.Equal(r, MembershipRecord.Decode(r.Encode()));
        Assert.Null(MembershipRecord.Decode([]));
        Assert.Null(MembershipRecord.Decode([2, (byte)'{', (byte)'}'])); // a newer format version
        Assert.Null(MembershipRecord.Decode([1, (byte)'{', (byte)'x']));  // damaged JSON
    }

    [Fact]
    public async Task Nodes_are_live_within_the_window_and_leave_on_dispose()
    {
        using var kv = new MemoryKvStore();
        var clock = new Clock(DateTimeOffset.UnixEpoch.AddDays(20000));
        var a = Membership.Start(kv, "a", "127.0.0.2:2049", null, NullLogger.Instance, clock);
        await using var b = Membership.Start(kv, "b", "127.0.0.3:2049", "127.0.0.3:9109", NullLogger.Instance, clock);
        a.Beat();
        Assert.Equal(2, a.LiveNodes);

        // b stops beating (its clock reading stays old) while a goes on: after the live window b is dead.
        clock.Now += Membership.LiveWindow + TimeSpan.FromSeconds(1);
        a.Beat();
        Assert.Equal(1, a.LiveNodes);
        Assert.Equal(2, a.Nodes.Count);

        // An orderly stop removes the row.
        await a.DisposeAsync();
        Assert.Equal(["b"], Membership.ReadAll(kv).Select(n => n.Key));

        // Rows of nodes gone longer than ForgetAfter are deleted by whoever beats next.
        clock.Now += Membership.ForgetAfter + TimeSpan.FromMinutes(1);
        await using var c = Membership.Start(kv, "c", "127.0.0.4:2049", null, NullLogger.Instance, clock);
        Assert.Equal(["c"], Membership.ReadAll(kv).Select(n => n.Key));
    }

    [Fact]
    public void Status_prints_live_dead_and_unreadable_rows()
    {
        long now = 10_000_000;
        var rows = new List<(string, MembershipRecord?)>
        {
            ("a", new MembershipRecord("a", "127.0.0.2:2049", "127.0.0.2:9109", "v", now - 60_000, now - 2_000)),
            ("b", new MembershipRecord("b", "127.0.0.3:2049", null, "v", now - 60_000, now - 40_000)),
            ("x", null),
        };
        var w = new StringWriter();
        StatusCommand.Print(rows, now, w);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("live", lines[1]);
        Assert.Contains("2s ago", lines[1]);
        Assert.Contains("dead", lines[2]);
        Assert.Contains("unreadable", lines[3]);
        Assert.Equal("3 node(s), 1 live", lines[4].Trim());
        Assert.Empty(Keys.Node("").Skip(1));
    }
}
