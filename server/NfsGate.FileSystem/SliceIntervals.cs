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
    /// <remarks>
    /// Walks the slices newest first, keeping the union of what newer slices cover as a sorted list of disjoint
    /// intervals: a slice shows exactly the gaps of that union within its range. Overlaying oldest first (each slice
    /// cutting every range below it) cost O(slices²); under random 4 KiB writes a chunk holds up to a thousand
    /// references before compaction catches up, and that overlay alone took a quarter of the server's CPU. Once the
    /// union covers the whole request, older slices cannot show and the walk stops.
    /// </remarks>
    public static List<VisibleRange> Visible(IReadOnlyList<Slice> slices, uint start, uint end)
    {
        var ranges = new List<VisibleRange>();
        if (start >= end) return ranges;
        var covered = new List<(long From, long To)>();
        for (int i = slices.Count - 1; i >= 0; i--)
        {
            var s = slices[i];
            long a = Math.Max(s.Pos, start), b = Math.Min((long)s.Pos + s.Len, end);
            if (a >= b) continue;
            int first = FirstEndingAfter(covered, a), last = first;
            long at = a;
            for (; last < covered.Count && covered[last].From < b; last++)
            {
                if (covered[last].From > at) Show(ranges, s, at, covered[last].From);
                at = Math.Max(at, covered[last].To);
            }
            if (at < b) Show(ranges, s, at, b);
            long from = a, to = b;
            if (last > first) (from, to) = (Math.Min(a, covered[first].From), Math.Max(b, covered[last - 1].To));
            covered.RemoveRange(first, last - first);
            covered.Insert(first, (from, to));
            if (covered.Count == 1 && covered[0].From <= start && covered[0].To >= end) break;
        }
        ranges.Sort((x, y) => x.Pos.CompareTo(y.Pos));
        return ranges;
    }

    /// <summary>Bytes [a, b) of the chunk come from slice <paramref name="s"/>; a hole shows nothing.</summary>
    private static void Show(List<VisibleRange> ranges, in Slice s, long a, long b)
    {
        if (s.Id != 0) ranges.Add(new VisibleRange((uint)a, (uint)(b - a), s.Id, s.Size, s.Off + (uint)(a - s.Pos)));
    }

    /// <summary>Index of the first interval ending after <paramref name="pos"/> (Count if none): intervals are sorted and disjoint.</summary>
    private static int FirstEndingAfter(List<(long From, long To)> covered, long pos)
    {
        int lo = 0, hi = covered.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (covered[mid].To > pos) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}
