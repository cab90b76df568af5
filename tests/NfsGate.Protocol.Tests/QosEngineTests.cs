using System.Net;
using NfsGate.Protocol.Qos;

namespace NfsGate.Protocol.Tests;

/// <summary>The admission engine on a hand-moved clock: which calls run, in which order, and when they are refused.</summary>
public sealed class QosEngineTests : IDisposable
{
    const long MiB = 1 << 20;
    static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    readonly QosManualClock _clock = new();
    readonly QosEngine _engine;

    public QosEngineTests() => _engine = new QosEngine(_clock);

    public void Dispose() => _engine.Dispose();

    static QosPolicy ReadCap(long bytesPerSecond, double burstSeconds = 1, double maxDelaySeconds = 60) => new()
    {
        Export = new QosRates(ReadBytesPerSecond: bytesPerSecond, Burst: TimeSpan.FromSeconds(burstSeconds)),
        MaxDelay = TimeSpan.FromSeconds(maxDelaySeconds),
    };

    ValueTask<bool> Read(IPAddress client, long bytes = MiB, string export = "e") =>
        _engine.AdmitAsync(export, client, QosKind.Read, bytes, CancellationToken.None);

    [Fact]
    public void An_export_without_caps_admits_at_once()
    {
        _engine.Set("other", ReadCap(1));
        for (int i = 0; i < 100; i++)
        {
            var v = Read(A, 1L << 30);
            Assert.True(v.IsCompletedSuccessfully && v.Result);
        }
    }

    [Fact]
    public void Over_the_cap_a_call_waits_until_the_debt_is_repaid()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A, 3 * MiB).IsCompletedSuccessfully); // burst 1 MiB, so this leaves 2 MiB of debt
        var held = Read(A);
        Assert.False(held.IsCompleted);
        _clock.Advance(1.9);
        Assert.False(held.IsCompleted);
        _clock.Advance(0.2);
        Assert.True(held.IsCompletedSuccessfully && held.Result);
        var s = _engine.Stats("e");
        Assert.Equal(2, s.Admitted);
        Assert.Equal(1, s.Delayed);
        Assert.Equal(0, s.Rejected);
        Assert.InRange(s.DelayedSeconds, 2.0, 2.1);
    }

    [Fact]
    public void Clients_sharing_a_cap_take_turns_even_when_one_queued_everything_first()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A).IsCompletedSuccessfully); // empties the bucket
        var pending = new List<(char Client, ValueTask<bool> Call)>();
        for (int i = 0; i < 6; i++) pending.Add(('A', Read(A)));
        for (int i = 0; i < 6; i++) pending.Add(('B', Read(B)));
        Assert.Equal("ABABABABABAB", ServeOneRefillAtATime(pending));
    }

    [Fact]
    public void Three_clients_with_unequal_queues_take_equal_turns_while_all_wait()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A).IsCompletedSuccessfully);
        var c = IPAddress.Parse("10.0.0.3");
        var pending = new List<(char Client, ValueTask<bool> Call)>();
        for (int i = 0; i < 8; i++) pending.Add(('A', Read(A)));
        for (int i = 0; i < 2; i++) pending.Add(('B', Read(B)));
        for (int i = 0; i < 2; i++) pending.Add(('C', Read(c)));
        Assert.Equal("ABCABCAAAAAA", ServeOneRefillAtATime(pending));
    }

    /// <summary>
    /// Moves the clock in 10 ms steps (a 1 MiB call under 1 MiB/s earns its tokens in 1 s) and records who is served;
    /// never more than one per step, since tokens arrive for one call per second.
    /// </summary>
    string ServeOneRefillAtATime(List<(char Client, ValueTask<bool> Call)> pending)
    {
        var order = new System.Text.StringBuilder();
        for (int step = 0; step < 5000 && pending.Count > 0; step++)
        {
            _clock.Advance(0.01);
            var served = pending.Where(p => p.Call.IsCompleted).ToList();
            Assert.True(served.Count <= 1, $"step {step} served {served.Count} calls with tokens for one");
            foreach (var p in served)
            {
                Assert.True(p.Call.Result);
                order.Append(p.Client);
                pending.Remove(p);
            }
        }
        return order.ToString();
    }

    [Fact]
    public void A_call_that_would_wait_past_the_max_delay_is_refused()
    {
        _engine.Set("e", ReadCap(MiB, maxDelaySeconds: 2));
        Assert.True(Read(A, 10 * MiB).IsCompletedSuccessfully); // 9 MiB of debt: 9 s
        var held = Read(A);
        _clock.Advance(1.9);
        Assert.False(held.IsCompleted);
        _clock.Advance(0.2);
        Assert.True(held.IsCompletedSuccessfully);
        Assert.False(held.Result);
        Assert.Equal(1, _engine.Stats("e").Rejected);
        Assert.Equal(0, _engine.Stats("e").Waiting);
    }

    [Fact]
    public void A_client_rule_caps_each_matching_address_and_leaves_others_to_the_export_cap()
    {
        _engine.Set("e", new QosPolicy
        {
            Clients = [new QosClientRule("10.0.0.0/31", new QosRates(ReadBytesPerSecond: MiB))],
        });
        var other = IPAddress.Parse("10.0.0.2"); // outside 10.0.0.0/31: no rule, no export cap
        var ten0 = IPAddress.Parse("10.0.0.0");
        Assert.True(Read(A, 4 * MiB).IsCompletedSuccessfully);
        Assert.True(Read(ten0, 4 * MiB).IsCompletedSuccessfully); // its own bucket, not A's
        var heldA = Read(A);
        var heldTen0 = Read(ten0);
        Assert.False(heldA.IsCompleted);
        Assert.False(heldTen0.IsCompleted);
        for (int i = 0; i < 10; i++)
            Assert.True(Read(other, 4 * MiB).IsCompletedSuccessfully);
        _clock.Advance(3.1);
        Assert.True(heldA.IsCompletedSuccessfully && heldTen0.IsCompletedSuccessfully);
    }

    [Fact]
    public void The_export_cap_holds_even_when_each_client_is_under_its_own()
    {
        _engine.Set("e", new QosPolicy
        {
            Export = new QosRates(ReadBytesPerSecond: MiB),
            Clients = [new QosClientRule("*", new QosRates(ReadBytesPerSecond: 100 * MiB))],
        });
        Assert.True(Read(A, 2 * MiB).IsCompletedSuccessfully);
        var heldB = Read(B);
        Assert.False(heldB.IsCompleted);
        _clock.Advance(1.1);
        Assert.True(heldB.IsCompletedSuccessfully);
    }

    [Fact]
    public void Metadata_calls_are_not_stuck_behind_reads_waiting_for_read_bandwidth()
    {
        _engine.Set("e", new QosPolicy { Export = new QosRates(ReadBytesPerSecond: MiB, OpsPerSecond: 1000) });
        Assert.True(Read(A, 5 * MiB).IsCompletedSuccessfully);
        var heldRead = Read(A);
        var getattr = _engine.AdmitAsync("e", A, QosKind.Other, 0);
        var write = _engine.AdmitAsync("e", A, QosKind.Write, MiB);
        Assert.False(heldRead.IsCompleted);
        Assert.True(getattr.IsCompletedSuccessfully && getattr.Result);
        Assert.True(write.IsCompletedSuccessfully && write.Result);
    }

    [Fact]
    public void The_ops_cap_counts_every_call()
    {
        _engine.Set("e", new QosPolicy { Export = new QosRates(OpsPerSecond: 10, Burst: TimeSpan.FromSeconds(1)) });
        for (int i = 0; i < 10; i++)
            Assert.True(_engine.AdmitAsync("e", A, i % 2 == 0 ? QosKind.Other : QosKind.Read, 1).IsCompletedSuccessfully);
        var held = _engine.AdmitAsync("e", A, QosKind.Other, 0);
        Assert.False(held.IsCompleted);
        _clock.Advance(0.11);
        Assert.True(held.IsCompletedSuccessfully);
    }

    [Fact]
    public void Lowering_a_cap_at_runtime_makes_waiting_calls_wait_longer()
    {
        _engine.Set("e", ReadCap(10 * MiB));
        Assert.True(Read(A, 12 * MiB).IsCompletedSuccessfully); // 2 MiB of debt: 0.2 s at 10 MiB/s
        var held = Read(A);
        _engine.Set("e", ReadCap(MiB)); // now 2 s
        _clock.Advance(1.5);
        Assert.False(held.IsCompleted);
        _clock.Advance(0.6);
        Assert.True(held.IsCompletedSuccessfully && held.Result);
    }

    [Fact]
    public void Lowering_a_cap_at_runtime_drops_the_saved_burst()
    {
        _engine.Set("e", ReadCap(100 * MiB, burstSeconds: 2)); // 200 MiB saved up
        _engine.Set("e", ReadCap(MiB, burstSeconds: 1));
        Assert.True(Read(A).IsCompletedSuccessfully);
        Assert.False(Read(A).IsCompleted);
    }

    [Fact]
    public void Raising_or_removing_a_cap_releases_waiting_calls()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A, 100 * MiB).IsCompletedSuccessfully);
        var first = Read(A);
        var second = Read(B);
        _engine.Set("e", ReadCap(1000 * MiB));
        _clock.Advance(0.11);
        Assert.True(first.IsCompletedSuccessfully && first.Result);
        _engine.Set("e", QosPolicy.None);
        Assert.True(second.IsCompletedSuccessfully && second.Result);
        Assert.Empty(_engine.Policies);
        Assert.Equal(3, _engine.Stats("e").Admitted); // counters survive the limiter
        Assert.Equal(2, _engine.Stats("e").Delayed);
        Assert.True(Read(A, 1L << 40).IsCompletedSuccessfully);
    }

    [Fact]
    public void A_share_of_the_cap_scales_the_rate()
    {
        _engine.Set("e", ReadCap(2 * MiB));
        _engine.Share = 0.5;
        Assert.True(Read(A, 3 * MiB).IsCompletedSuccessfully); // burst is 1 s of 1 MiB/s: 2 MiB of debt
        var held = Read(A);
        _clock.Advance(1.9);
        Assert.False(held.IsCompleted);
        _clock.Advance(0.2);
        Assert.True(held.IsCompletedSuccessfully);
        Assert.Throws<ArgumentOutOfRangeException>(() => _engine.Share = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => _engine.Share = 1.5);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A, 10 * MiB).IsCompletedSuccessfully);
        using var cts = new CancellationTokenSource();
        var held = _engine.AdmitAsync("e", A, QosKind.Read, MiB, cts.Token);
        Assert.Equal(1, _engine.Stats("e").Waiting);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await held);
        Assert.Equal(0, _engine.Stats("e").Waiting);
    }

    [Fact]
    public void Disposing_the_engine_lets_waiting_calls_run()
    {
        _engine.Set("e", ReadCap(MiB));
        Assert.True(Read(A, 10 * MiB).IsCompletedSuccessfully);
        var held = Read(A);
        _engine.Dispose();
        Assert.True(held.IsCompletedSuccessfully && held.Result);
    }

    [Fact]
    public void Policy_lookup_matches_cidr_address_and_star_first_rule_first()
    {
        var p = new QosPolicy
        {
            Clients =
            [
                new QosClientRule("10.1.2.0/24", new QosRates(ReadBytesPerSecond: 1)),
                new QosClientRule("10.1.2.7", new QosRates(ReadBytesPerSecond: 2)),
                new QosClientRule("::ffff:10.9.0.0/112", new QosRates(ReadBytesPerSecond: 3)),
                new QosClientRule("*", new QosRates(ReadBytesPerSecond: 4)),
            ],
        };
        Assert.Equal(1, p.RuleFor(IPAddress.Parse("10.1.2.7"))!.Rates.ReadBytesPerSecond);
        Assert.Equal(4, p.RuleFor(IPAddress.Parse("10.1.3.7"))!.Rates.ReadBytesPerSecond);
        Assert.Equal(1, p.RuleFor(IPAddress.Parse("::ffff:10.1.2.9"))!.Rates.ReadBytesPerSecond);
        Assert.True(QosClientRule.IsValidMatch("fd00::/8"));
        Assert.False(QosClientRule.IsValidMatch("10.1.2.0/33"));
        Assert.False(QosClientRule.IsValidMatch("example.com"));
    }
}
