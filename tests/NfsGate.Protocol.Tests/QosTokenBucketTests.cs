using NfsGate.Protocol.Qos;

namespace NfsGate.Protocol.Tests;

public sealed class QosTokenBucketTests
{
    const double MiB = 1 << 20;

    [Fact]
    public void A_full_bucket_lets_its_burst_through_then_makes_the_next_wait()
    {
        var b = new TokenBucket(10 * MiB, TimeSpan.FromSeconds(2), now: 0);
        Assert.Equal(20 * MiB, b.Capacity);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(b.CanStart(0), $"call {i} of the burst");
            b.Take(MiB, 0);
        }
        Assert.False(b.CanStart(0));
        Assert.Equal(0, b.SecondsUntilStart(0));
        Assert.False(b.CanStart(0)); // level exactly zero is not above zero
        Assert.True(b.CanStart(0.01));
    }

    [Fact]
    public void A_call_larger_than_the_burst_passes_by_going_into_debt_and_the_next_waits_for_the_debt()
    {
        var b = new TokenBucket(MiB, TimeSpan.FromSeconds(1), now: 0);
        Assert.True(b.CanStart(0));
        b.Take(4 * MiB, 0);
        Assert.Equal(-3 * MiB, b.Level(0));
        Assert.Equal(3.0, b.SecondsUntilStart(0), 9);
        Assert.False(b.CanStart(2.9));
        Assert.True(b.CanStart(3.1));
    }

    [Fact]
    public void Refill_stops_at_the_capacity()
    {
        var b = new TokenBucket(100, TimeSpan.FromSeconds(1), now: 0);
        b.Take(50, 0);
        Assert.Equal(100, b.Level(1000));
    }

    [Fact]
    public void Lowering_the_rate_clamps_the_saved_burst_so_the_new_cap_applies_at_once()
    {
        var b = new TokenBucket(100 * MiB, TimeSpan.FromSeconds(2), now: 0);
        b.Configure(10 * MiB, TimeSpan.FromSeconds(1), now: 0);
        Assert.Equal(10 * MiB, b.Level(0));
        Assert.Equal(10 * MiB, b.Capacity);
    }

    [Fact]
    public void Configure_keeps_a_debt()
    {
        var b = new TokenBucket(MiB, TimeSpan.FromSeconds(1), now: 0);
        b.Take(3 * MiB, 0);
        b.Configure(2 * MiB, TimeSpan.FromSeconds(1), now: 0);
        Assert.Equal(-2 * MiB, b.Level(0));
        Assert.Equal(1.0, b.SecondsUntilStart(0), 9);
    }

    [Fact]
    public void A_tiny_rate_still_holds_one_whole_token()
    {
        var b = new TokenBucket(0.5, TimeSpan.FromSeconds(1), now: 0);
        Assert.Equal(1, b.Capacity);
        Assert.True(b.CanStart(0));
    }

    [Fact]
    public void A_clock_stepping_back_does_not_drain_the_bucket()
    {
        var b = new TokenBucket(100, TimeSpan.FromSeconds(1), now: 10);
        b.Take(50, 10);
        Assert.Equal(50, b.Level(5));
        Assert.Equal(60, b.Level(10.1), 9);
    }

    [Theory]
    [InlineData(20.0, 1 << 20, 1.0)]
    [InlineData(20.0, 4096, 2.0)]
    [InlineData(3.0, 1 << 20, 0.5)]
    public void Greedy_callers_get_the_rate_plus_at_most_one_burst_and_one_call(double rateMiB, int callBytes, double burstSeconds)
    {
        // Simulated time in 1 ms steps: a caller starts a call whenever it may. Over T seconds the bytes moved are
        // between rate*T and rate*T + burst + one call (the last call may start just before T on the last tokens).
        double rate = rateMiB * MiB;
        var b = new TokenBucket(rate, TimeSpan.FromSeconds(burstSeconds), now: 0);
        double moved = 0;
        const double T = 20;
        for (int ms = 0; ms < T * 1000; ms++)
        {
            double now = ms / 1000.0;
            while (b.CanStart(now))
            {
                b.Take(callBytes, now);
                moved += callBytes;
            }
        }
        Assert.InRange(moved, rate * (T - 0.001) - callBytes, rate * T + b.Capacity + callBytes);
    }
}
