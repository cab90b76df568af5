using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>The sequential-access detector alone: which reads continue a stream and how far ahead they ask.</summary>
public sealed class ReadStreamsTests
{
    private const long Mi = 1 << 20;
    private const long Block = Layout.BlockSize;
    private const long Cap = 8 * Block;
    private const long Size = 1L << 40;

    [Fact]
    public void FirstReadAsksNothingThenTheWindowDoublesUpToTheCap()
    {
        var s = new ReadStreams();
        Assert.Equal((0L, 0L), Range(s.OnRead(0, Mi, Size, Cap, 0)));
        Assert.Equal((2 * Mi, 2 * Mi + Block), Range(s.OnRead(Mi, 2 * Mi, Size, Cap, 0)));
        // Each further read asks only for what lies beyond what was already asked for.
        Assert.Equal((2 * Mi + Block, 3 * Mi + 2 * Block), Range(s.OnRead(2 * Mi, 3 * Mi, Size, Cap, 0)));
        Assert.Equal((3 * Mi + 2 * Block, 4 * Mi + 4 * Block), Range(s.OnRead(3 * Mi, 4 * Mi, Size, Cap, 0)));
        Assert.Equal((4 * Mi + 4 * Block, 5 * Mi + Cap), Range(s.OnRead(4 * Mi, 5 * Mi, Size, Cap, 0)));
        Assert.Equal((5 * Mi + Cap, 6 * Mi + Cap), Range(s.OnRead(5 * Mi, 6 * Mi, Size, Cap, 0)));
    }

    [Fact]
    public void ReorderedReadsContinueTheStreamAndNeverAskTwice()
    {
        var s = new ReadStreams();
        s.OnRead(0, Mi, Size, Cap, 0);
        var a = s.OnRead(2 * Mi, 3 * Mi, Size, Cap, 0); // READ of [1M, 2M) still in flight
        Assert.Equal((3 * Mi, 3 * Mi + Block), Range(a));
        var b = s.OnRead(Mi, 2 * Mi, Size, Cap, 0);     // arrives late: same stream, window grows, end does not go back
        Assert.Equal((3 * Mi + Block, 3 * Mi + 2 * Block), Range(b));
        Assert.Equal(a.StreamId, b.StreamId);
    }

    [Fact]
    public void JumpsStartNewStreamsWithoutReadAhead()
    {
        var s = new ReadStreams();
        foreach (long mi in new long[] { 21, 6, 33, 13, 28, 0, 39 })
            Assert.Equal((0L, 0L), Range(s.OnRead(mi * Mi, (mi + 1) * Mi, Size, Cap, 0)));
    }

    [Fact]
    public void InterleavedReadersKeepTheirOwnStreams()
    {
        var s = new ReadStreams();
        long[] starts = [0, 100 * Mi, 200 * Mi, 300 * Mi];
        foreach (long st in starts) s.OnRead(st, st + Mi, Size, Cap, 0);
        foreach (long st in starts)
            Assert.Equal((st + 2 * Mi, st + 2 * Mi + Block), Range(s.OnRead(st + Mi, st + 2 * Mi, Size, Cap, 0)));
        // A fifth reader replaces the least recently used stream (the one at 0), not the others.
        s.OnRead(400 * Mi, 401 * Mi, Size, Cap, 0);
        Assert.Equal((0L, 0L), Range(s.OnRead(2 * Mi, 3 * Mi, Size, Cap, 0)));
        Assert.Equal((302 * Mi + Block, 303 * Mi + 2 * Block), Range(s.OnRead(302 * Mi, 303 * Mi, Size, Cap, 0)));
    }

    [Fact]
    public void NothingIsAskedBeyondTheEndOfTheFile()
    {
        var s = new ReadStreams();
        long size = 5 * Mi;
        s.OnRead(0, Mi, size, Cap, 0);
        Assert.Equal((2 * Mi, size), Range(s.OnRead(Mi, 2 * Mi, size, Cap, 0)));
        Assert.Equal((0L, 0L), Range(s.OnRead(2 * Mi, 3 * Mi, size, Cap, 0)));
    }

    [Fact]
    public void RetreatMakesTheNextReadAskAgain()
    {
        var s = new ReadStreams();
        s.OnRead(0, Mi, Size, Cap, 0);
        var a = s.OnRead(Mi, 2 * Mi, Size, Cap, 0);
        s.Retreat(a.StreamId, 3 * Mi); // only [2M, 3M) could be issued
        Assert.Equal((3 * Mi, 3 * Mi + 2 * Block), Range(s.OnRead(2 * Mi, 3 * Mi, Size, Cap, 0)));
        s.Retreat(a.StreamId + 1000, 0); // an unknown (replaced) stream: ignored
        Assert.Equal((3 * Mi + 2 * Block, 4 * Mi + 4 * Block), Range(s.OnRead(3 * Mi, 4 * Mi, Size, Cap, 0)));
    }

    [Fact]
    public void TheWindowNeverExceedsASmallCap()
    {
        var s = new ReadStreams();
        s.OnRead(0, Mi, Size, Block, 0);
        for (long i = 1; i < 10; i++)
        {
            var (from, to, _) = s.OnRead(i * Mi, (i + 1) * Mi, Size, Block, 0);
            Assert.True(to <= (i + 1) * Mi + Block);
            Assert.True(from < to);
        }
    }

    private static (long, long) Range((long From, long To, long StreamId) r) => (r.From, r.To);
}
