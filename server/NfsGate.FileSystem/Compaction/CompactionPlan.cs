using NfsGate.Metadata;

namespace NfsGate.FileSystem.Compaction;

/// <summary>
/// What compacting one chunk copies and what it keeps. The chunk is looked at in block-sized windows: a window where
/// small slices (fragments) cut the visible bytes into pieces, and where copying them is cheap enough, is rewritten
/// (its visible runs become new slices; holes stay holes); every other window keeps its visible pieces as references
/// to the old slices (same id, Pos/Off/Len narrowed to the piece), so a 64 MiB slice with a few 4 KiB overwrites
/// costs a few 4 MiB windows of upload, not 64 MiB. Old slices' objects stay while any reference keeps their id.
/// </summary>
internal sealed class CompactionPlan
{
    /// <summary>Chunk-relative [Pos, End) runs to copy into new slices, sorted, non-touching.</summary>
    public readonly List<(uint Pos, uint End)> Copy = [];
    /// <summary>
    /// References to old slices' data that stay, in the order they must be applied: window by window, and within a
    /// window either its visible pieces (disjoint) or its original references clipped to it (in write order, holes
    /// included, so later ones still win), whichever is fewer. Copies lie in other windows, so they go after these.
    /// </summary>
    public readonly List<Slice> Kept = [];

    public long CopyBytes
    {
        get
        {
            long n = 0;
            foreach (var (pos, end) in Copy) n += end - pos;
            return n;
        }
    }

    /// <summary>A rewritten window held inline slices (bytes in the metadata): the swap moves them into objects.</summary>
    public bool MovesInline { get; private set; }

    /// <summary>Slices the chunk has after the swap.</summary>
    public int ResultCount => Copy.Count + Kept.Count;

    /// <summary>
    /// The plan for <paramref name="slices"/>. A fragmented window is rewritten when the copy is cheap enough (at most
    /// <paramref name="maxCopyPerFragmentByte"/> bytes per fragment byte). When the result would still have more than
    /// <paramref name="target"/> slices (the list is past its hard limit), more fragmented windows are rewritten
    /// whatever they cost, those that merge away the most pieces first, until it does not: random 4 KiB writes all
    /// over a chunk then cost the few worst windows per compaction, not all sixteen.
    /// A window referencing an inline slice counts as fragmented even as one run (a small file's only slice): its
    /// bytes belong in an object. With <paramref name="forceInline"/> every such window is rewritten whatever it costs
    /// (the sweep of inline bytes left behind, or a chunk holding too many of them).
    /// </summary>
    public static CompactionPlan Make(IReadOnlyList<Slice> slices, long chunkSize, int target, int maxCopyPerFragmentByte, int smallSliceBytes, bool forceInline = false)
    {
        // A slice id is a fragment when all of its references together are small (an earlier compaction may have
        // split one big slice into several references: those pieces are not fragments).
        var referenced = new Dictionary<ulong, long>();
        foreach (var s in slices)
            if (s.Id != 0) referenced[s.Id] = referenced.GetValueOrDefault(s.Id) + s.Len;

        var visible = SliceIntervals.Visible(slices, 0, (uint)chunkSize);
        var windows = new List<Window>();
        int count = 0, next = 0; // next: first visible range not wholly before the current window
        for (long w = 0; w < chunkSize; w += Layout.BlockSize)
        {
            uint ws = (uint)w, we = (uint)(w + Layout.BlockSize);
            var pieces = new List<VisibleRange>();
            while (next < visible.Count && (long)visible[next].Pos + visible[next].Len <= ws) next++;
            for (int i = next; i < visible.Count && visible[i].Pos < we; i++)
                pieces.Add(Clip(visible[i], ws, we));
            if (pieces.Count == 0) continue;

            long fragmentBytes = 0;
            foreach (var p in pieces)
                if (referenced[p.Id] < smallSliceBytes) fragmentBytes += p.Len;
            var runs = Runs(pieces);
            long copy = 0;
            foreach (var (pos, end) in runs) copy += end - pos;
            // Rewrite only where it leaves fewer pieces, and where the copy is a small multiple of the fragment bytes
            // it merges away: one 4 KiB overwrite does not buy a 4 MiB upload (unless the list must shrink).
            bool fragmented = fragmentBytes > 0 && runs.Count < pieces.Count;
            // A window of scattered overwrites on a big slice has about twice as many visible pieces as references
            // (the big slice shows between every two): kept as references it costs half the list entries.
            var originals = new List<Slice>();
            bool inline = false;
            foreach (var sl in slices)
                if (sl.Pos < we && (long)sl.Pos + sl.Len > ws)
                {
                    originals.Add(Clip(sl, ws, we));
                    inline |= sl.IsInline;
                }
            fragmented |= inline;
            var window = new Window(pieces, originals.Count < pieces.Count ? originals : null, runs, fragmented,
                (fragmented && copy <= maxCopyPerFragmentByte * fragmentBytes) || (inline && forceInline), inline);
            windows.Add(window);
            count += window.Rewrite ? runs.Count : window.KeptCount;
        }

        if (count > target)
        {
            var forced = windows.Where(x => x.Fragmented && !x.Rewrite).OrderByDescending(x => x.KeptCount - x.Runs.Count);
            foreach (var x in forced)
            {
                if (count <= target) break;
                x.Rewrite = true;
                count -= x.KeptCount - x.Runs.Count;
            }
        }

        var plan = new CompactionPlan();
        foreach (var x in windows)
        {
            if (x.Rewrite && x.Inline) plan.MovesInline = true;
            if (x.Rewrite)
                foreach (var r in x.Runs) plan.AddCopy(r.Pos, r.End);
            else if (x.Originals is { } originals)
                foreach (var sl in originals) plan.AddKept(sl);
            else
                foreach (var p in x.Pieces) plan.AddKept(new Slice(p.Id, p.Size, p.Pos, p.Off, p.Len));
        }
        return plan;
    }

    /// <summary>One block-sized window of the chunk: its visible pieces, the runs they form, and the decision.</summary>
    private sealed class Window(List<VisibleRange> pieces, List<Slice>? originals, List<(uint Pos, uint End)> runs, bool fragmented, bool rewrite, bool inline)
    {
        public readonly List<VisibleRange> Pieces = pieces;
        /// <summary>The original references clipped to the window, when fewer than the pieces (else null).</summary>
        public readonly List<Slice>? Originals = originals;
        public int KeptCount => Originals?.Count ?? Pieces.Count;
        public readonly List<(uint Pos, uint End)> Runs = runs;
        public readonly bool Fragmented = fragmented;
        public bool Rewrite = rewrite;
        /// <summary>The window references an inline slice.</summary>
        public readonly bool Inline = inline;
    }

    private static Slice Clip(Slice s, uint ws, uint we)
    {
        uint a = Math.Max(s.Pos, ws), b = (uint)Math.Min((long)s.Pos + s.Len, we);
        return s with { Pos = a, Len = b - a, Off = s.Off + (a - s.Pos) };
    }

    private static VisibleRange Clip(VisibleRange r, uint ws, uint we)
    {
        uint a = Math.Max(r.Pos, ws), b = (uint)Math.Min((long)r.Pos + r.Len, we);
        return r with { Pos = a, Len = b - a, Off = r.Off + (a - r.Pos) };
    }

    private static List<(uint Pos, uint End)> Runs(List<VisibleRange> pieces)
    {
        var runs = new List<(uint Pos, uint End)>();
        foreach (var p in pieces)
        {
            if (runs.Count > 0 && runs[^1].End == p.Pos) runs[^1] = (runs[^1].Pos, p.Pos + p.Len);
            else runs.Add((p.Pos, p.Pos + p.Len));
        }
        return runs;
    }

    private void AddCopy(uint pos, uint end)
    {
        if (Copy.Count > 0 && Copy[^1].End == pos) Copy[^1] = (Copy[^1].Pos, end); // rewritten windows side by side
        else Copy.Add((pos, end));
    }

    private void AddKept(Slice s)
    {
        // A big slice's pieces in consecutive kept windows are one reference again.
        if (Kept.Count > 0 && Kept[^1] is var k && k.Id == s.Id && k.Pos + k.Len == s.Pos && k.Off + k.Len == s.Off)
            Kept[^1] = k with { Len = k.Len + s.Len };
        else Kept.Add(s);
    }
}
