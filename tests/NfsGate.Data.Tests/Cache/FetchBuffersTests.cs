using NfsGate.Data.Cache;

namespace NfsGate.Data.Tests.Cache;

public sealed class FetchBuffersTests
{
    [Fact]
    public void Buffers_have_the_exact_size_and_are_reused()
    {
        var pool = new FetchBuffers((4 << 20) + (64 << 10) + 1, keep: 2);
        var a = pool.Rent();
        Assert.Equal((4 << 20) + (64 << 10) + 1, a.Length); // not rounded up to 8 MiB as ArrayPool.Shared does
        pool.Return(a);
        Assert.Same(a, pool.Rent());
    }

    [Fact]
    public void At_most_keep_idle_buffers_are_retained()
    {
        var pool = new FetchBuffers(1024, keep: 2);
        var rented = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        foreach (var b in rented) pool.Return(b);
        Assert.Equal(2, pool.Kept);
        var again = Enumerable.Range(0, 3).Select(_ => pool.Rent()).ToList();
        Assert.Equal(0, pool.Kept);
        Assert.Equal(2, again.Count(b => rented.Contains(b))); // the third is new
    }

    [Fact]
    public void A_foreign_buffer_is_refused()
    {
        var pool = new FetchBuffers(1024, keep: 2);
        Assert.Throws<ArgumentException>(() => pool.Return(new byte[2048]));
    }
}
