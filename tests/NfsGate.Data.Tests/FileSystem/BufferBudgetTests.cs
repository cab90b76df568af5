using NfsGate.FileSystem;

namespace NfsGate.Data.Tests.FileSystem;

public class BufferBudgetTests
{
    [Fact]
    public async Task AWriterWaitsUntilSpaceIsReleased()
    {
        var budget = new BufferBudget(100);
        int kicks = 0;
        Assert.True(await budget.ReserveAsync(80, TimeSpan.Zero, () => kicks++, default));
        var waiting = budget.ReserveAsync(30, TimeSpan.FromMinutes(5), () => kicks++, default).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, kicks); // it asked for flushes before waiting
        budget.Release(10); // 70 + 30 = 100 fits
        Assert.True(await waiting);
        Assert.Equal(100, budget.Used);
    }

    [Fact]
    public async Task TooLargeOrTimedOutReservationsFailWithoutTakingSpace()
    {
        var budget = new BufferBudget(100);
        Assert.False(await budget.ReserveAsync(101, TimeSpan.FromMinutes(5), () => { }, default));
        Assert.True(await budget.ReserveAsync(100, TimeSpan.Zero, () => { }, default));
        Assert.False(await budget.ReserveAsync(1, TimeSpan.FromMilliseconds(1), () => { }, default));
        Assert.Equal(100, budget.Used);
        budget.Release(100);
        Assert.Equal(0, budget.Used);
    }
}
