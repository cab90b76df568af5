using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>Bytes [Pos, Pos+Len) of a chunk are bytes [Off, Off+Len) of slice <see cref="Id"/>'s data (Size bytes).</summary>
public readonly record struct VisibleRange(uint Pos, uint Len, ulong Id, uint Size, uint Off);

/// <summary>
/// Which slice supplies each byte of a chunk. Slices are in write order and later ones win where they overlap;
/// Id 0 is a hole (truncation) and hides what is below it. Bytes no slice covers are holes too.
/// </summary>
public static class SliceIntervals
{
    /// <summary>
    /// The data ranges visible within [<paramref name="start"/>, <paramref name="end"/>) of the chunk, sorted by
    /// position, non-overlapping. Holes are left out: the caller zero-fills whatever is not covered.
    /// </summary>
    public static List<VisibleRange> Visible(IReadOnlyList<Slice> slices, uint start, uint end)
    {
        var ranges = new List<VisibleRange>();
        if (start >= end) return ranges;
        var next = new List<VisibleRange>();
        // Overlay in write order: O(slices^2), and a chunk's slice list is short (tens), so simplicity wins.
        foreach (var s in slices)
        {
            long a = Math.Max(s.Pos, start), b = Math.Min((long)s.Pos + s.Len, end);
            if (a >= b) continue;
            next.Clear();
            foreach (var r in ranges)
            {
                long rEnd = (long)r.Pos + r.Len;
                if (rEnd <= a || r.Pos >= b) { next.Add(r); continue; }
                if (r.Pos < a) next.Add(r with { Len = (uint)(a - r.Pos) });
                if (rEnd > b) next.Add(r with { Pos = (uint)b, Len = (uint)(rEnd - b), Off = r.Off + (uint)(b - r.Pos) });
            }
            next.Add(new VisibleRange((uint)a, (uint)(b - a), s.Id, s.Size, s.Off + (uint)(a - s.Pos)));
            (ranges, next) = (next, ranges);
        }
        ranges.RemoveAll(r => r.Id == 0);
        ranges.Sort((x, y) => x.Pos.CompareTo(y.Pos));
        return ranges;
    }
}
