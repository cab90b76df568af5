using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

public class SliceIntervalsTests
{
    private static Slice S(ulong id, uint pos, uint len, uint off = 0, uint size = 0) =>
        new(id, size == 0 ? off + len : size, pos, off, len);

    [Fact]
    public void EmptyChunkIsAllHole() => Assert.Empty(SliceIntervals.Visible([], 0, 100));

    [Fact]
    public void SingleSliceIsClippedToTheRequest()
    {
        var r = SliceIntervals.Visible([S(7, 10, 100)], 50, 80);
        Assert.Equal([new VisibleRange(50, 30, 7, 100, 40)], r);
    }

    [Fact]
    public void LaterSliceWinsInTheMiddle()
    {
        var r = SliceIntervals.Visible([S(1, 0, 100), S(2, 40, 20)], 0, 100);
        Assert.Equal([new VisibleRange(0, 40, 1, 100, 0), new VisibleRange(40, 20, 2, 20, 0), new VisibleRange(60, 40, 1, 100, 60)], r);
    }

    [Fact]
    public void EarlierSliceDoesNotOverrideLater()
    {
        var r = SliceIntervals.Visible([S(2, 40, 20), S(1, 0, 30)], 0, 100);
        Assert.Equal([new VisibleRange(0, 30, 1, 30, 0), new VisibleRange(40, 20, 2, 20, 0)], r);
    }

    [Fact]
    public void HoleSliceHidesOlderDataAndIsNotReported()
    {
        // A truncation to 50 leaves a hole slice over [50, end); a later write at 70 shows through it.
        var r = SliceIntervals.Visible([S(1, 0, 100), new Slice(0, 950, 50, 0, 950), S(3, 70, 10)], 0, 1000);
        Assert.Equal([new VisibleRange(0, 50, 1, 100, 0), new VisibleRange(70, 10, 3, 10, 0)], r);
    }

    [Fact]
    public void OffsetIntoSliceDataIsKept()
    {
        // A slice whose visible part starts 4 MiB + 3 into its data: a read spans its second and third blocks.
        uint bs = (uint)Layout.BlockSize;
        var r = SliceIntervals.Visible([new Slice(9, 3 * bs, 100, bs + 3, 2 * bs)], 100 + bs - 10, 100 + bs + 10);
        Assert.Equal([new VisibleRange(100 + bs - 10, 20, 9, 3 * bs, 2 * bs - 7)], r);
    }

    [Fact]
    public void EmptyRequestIsEmpty() => Assert.Empty(SliceIntervals.Visible([S(1, 0, 10)], 5, 5));

    [Fact]
    public void MatchesAByteByByteModel()
    {
        var rng = new Random(42);
        for (int round = 0; round < 500; round++)
        {
            const int chunk = 200;
            var slices = new List<Slice>();
            int n = rng.Next(0, 12);
            for (int i = 0; i < n; i++)
            {
                uint pos = (uint)rng.Next(chunk), len = (uint)rng.Next(1, chunk - (int)pos + 1);
                uint off = (uint)rng.Next(0, 50);
                ulong id = rng.Next(4) == 0 ? 0UL : (ulong)(i + 1);
                slices.Add(new Slice(id, off + len + (uint)rng.Next(0, 10), pos, off, len));
            }
            // Model: who owns each byte, and which data byte of it.
            var owner = new (ulong Id, long DataOff)[chunk];
            foreach (var s in slices)
                for (uint p = s.Pos; p < s.Pos + s.Len; p++) owner[p] = s.Id == 0 ? (0, 0) : (s.Id, s.Off + (p - s.Pos));

            uint start = (uint)rng.Next(chunk), end = (uint)rng.Next((int)start, chunk + 1);
            var got = new (ulong Id, long DataOff)[chunk];
            uint last = 0;
            foreach (var r in SliceIntervals.Visible(slices, start, end))
            {
                Assert.True(r.Pos >= start && r.Pos + r.Len <= end && r.Len > 0 && r.Id != 0);
                Assert.True(r.Pos >= last, "sorted and disjoint");
                last = r.Pos + r.Len;
                Assert.Equal(slices.Last(s => s.Id == r.Id).Size, r.Size);
                for (uint p = r.Pos; p < r.Pos + r.Len; p++) got[p] = (r.Id, r.Off + (p - r.Pos));
            }
            for (uint p = start; p < end; p++) Assert.Equal(owner[p], got[p]);
        }
    }

    [Fact]
    public void SamePiecesAsOverlayingInWriteOrder()
    {
        // The pieces themselves matter, not only who owns each byte: a read makes one fetch per piece and compaction
        // counts them. Long lists of small refs (packed random writes) and whole-chunk requests, as compaction asks.
        var rng = new Random(7);
        for (int round = 0; round < 300; round++)
        {
            const int chunk = 4096;
            var slices = new List<Slice>();
            int n = round < 20 ? rng.Next(500, 1200) : rng.Next(0, 40);
            for (int i = 0; i < n; i++)
            {
                uint pos = (uint)rng.Next(chunk), len = (uint)rng.Next(0, Math.Min(round % 3 == 0 ? chunk : 64, chunk - (int)pos) + 1);
                ulong id = rng.Next(10) == 0 ? 0UL : (ulong)rng.Next(1, n / 4 + 2); // refs share ids, as packed slices do
                slices.Add(new Slice(id, 1 << 20, pos, (uint)rng.Next(1 << 19), len));
            }
            uint start = (uint)rng.Next(chunk), end = rng.Next(3) == 0 ? chunk : (uint)rng.Next((int)start, chunk + 1);
            Assert.Equal(OverlayInWriteOrder(slices, start, end), SliceIntervals.Visible(slices, start, end));
        }
    }

    /// <summary>The plain definition: each slice, oldest first, cuts whatever it overlaps and lays itself on top.</summary>
    private static List<VisibleRange> OverlayInWriteOrder(List<Slice> slices, uint start, uint end)
    {
        var ranges = new List<VisibleRange>();
        if (start >= end) return ranges;
        foreach (var s in slices)
        {
            long a = Math.Max(s.Pos, start), b = Math.Min((long)s.Pos + s.Len, end);
            if (a >= b) continue;
            var next = new List<VisibleRange>();
            foreach (var r in ranges)
            {
                long rEnd = (long)r.Pos + r.Len;
                if (rEnd <= a || r.Pos >= b) { next.Add(r); continue; }
                if (r.Pos < a) next.Add(r with { Len = (uint)(a - r.Pos) });
                if (rEnd > b) next.Add(r with { Pos = (uint)b, Len = (uint)(rEnd - b), Off = r.Off + (uint)(b - r.Pos) });
            }
            next.Add(new VisibleRange((uint)a, (uint)(b - a), s.Id, s.Size, s.Off + (uint)(a - s.Pos)));
            ranges = next;
        }
        ranges.RemoveAll(r => r.Id == 0);
        ranges.Sort((x, y) => x.Pos.CompareTo(y.Pos));
        return ranges;
    }
}
