using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

public class DirtyExtentsTests
{
    private const long Bs = Layout.BlockSize;

    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void AdjacentWritesMergeWithinABlockButNotAcross()
    {
        var d = new DirtyExtents();
        d.Write(Bs - 10, Bytes(5, 1), out _);
        d.Write(Bs - 5, Bytes(15, 2), out _); // touches, then crosses the block boundary
        Assert.Equal(2, d.Extents.Count);
        Assert.Equal((Bs - 10, 10), (d.Extents[0].Off, d.Extents[0].Len));
        Assert.Equal((Bs, 10), (d.Extents[1].Off, d.Extents[1].Len));
        Assert.Equal(20, d.Bytes);
        d.Release();
    }

    [Fact]
    public void FillingABlockReportsIt()
    {
        var d = new DirtyExtents();
        bool full = false;
        for (long off = 0; off < Bs; off += 1 << 20) d.Write(Bs + off, Bytes(1 << 20, (int)off), out full);
        Assert.True(full);
        Assert.Single(d.Extents);
        d.Write(0, Bytes(10, 3), out full);
        Assert.False(full);
        d.Release();
    }

    [Fact]
    public void RandomWritesTrimsAndRangesMatchAModel()
    {
        var rng = new Random(7);
        long span = 3 * Bs;
        var model = new byte[span];
        var dirty = new bool[span];
        var d = new DirtyExtents();
        long dirtyCount = 0;
        for (int op = 0; op < 400; op++)
        {
            if (rng.Next(10) == 0)
            {
                long size = rng.NextInt64(span);
                long dropped = d.Trim(size);
                long was = dirty.AsSpan((int)size).Count(true);
                Assert.Equal(was, dropped);
                dirtyCount -= was;
                Array.Clear(dirty, (int)size, (int)(span - size));
            }
            else
            {
                // Offsets near block boundaries, where the splitting happens.
                long off = rng.Next(3) * Bs + rng.Next(-4096, 4096);
                off = Math.Clamp(off, 0, span - 1);
                int len = (int)Math.Min(rng.Next(1, 9000), span - off);
                var data = Bytes(len, op);
                long grew = d.Write(off, data, out _);
                long newlyDirty = len - dirty.AsSpan((int)off, len).Count(true);
                data.CopyTo(model, off);
                Array.Fill(dirty, true, (int)off, len);
                Assert.Equal(newlyDirty, grew);
                dirtyCount += newlyDirty;
            }
            Assert.Equal(dirtyCount, d.Bytes);
            long prevEnd = -1;
            foreach (var e in d.Extents)
            {
                Assert.True(e.Off > prevEnd || (e.Off == prevEnd && e.Off % Bs == 0), "disjoint; touching only at block boundaries");
                Assert.Equal(e.Off / Bs, (e.End - 1) / Bs);
                Assert.True(e.Data.SequenceEqual(model.AsSpan((int)e.Off, e.Len)));
                Assert.True(dirty.AsSpan((int)e.Off, e.Len).IndexOf(false) < 0);
                prevEnd = e.End;
            }
        }
        // GetRange across extents (copy) and within one (no copy).
        foreach (var e in d.Extents)
        {
            long end = e.End;
            while (end < span && dirty[end]) end++;
            var got = d.GetRange(e.Off, (int)(end - e.Off), out var rented);
            Assert.True(got.Span.SequenceEqual(model.AsSpan((int)e.Off, (int)(end - e.Off))));
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
        var pieces = new List<(long Off, byte[] Data)>();
        d.CollectOverlaps(0, span, pieces);
        Assert.Equal(d.Bytes, pieces.Sum(p => (long)p.Data.Length));
        foreach (var (off, data) in pieces) Assert.True(data.AsSpan().SequenceEqual(model.AsSpan((int)off, data.Length)));
        d.Release();
        Assert.True(d.IsEmpty);
    }

    [Fact]
    public void MergeFromLetsNewerBytesWin()
    {
        var older = new DirtyExtents();
        var newer = new DirtyExtents();
        older.Write(0, new byte[] { 1, 1, 1, 1 }, out _);
        newer.Write(2, new byte[] { 2, 2, 2, 2 }, out _);
        older.MergeFrom(newer);
        Assert.True(newer.IsEmpty);
        Assert.Single(older.Extents);
        Assert.Equal(new byte[] { 1, 1, 2, 2, 2, 2 }, older.Extents[0].Data.ToArray());
        older.Release();
    }
}
