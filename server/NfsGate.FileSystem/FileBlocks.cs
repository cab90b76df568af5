using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>One block object a file's data is read from, with its length (from the key, so no HEAD is needed).</summary>
public readonly record struct BlockRef(string Key, int Length);

/// <summary>
/// Turns a file range into the block objects holding its visible bytes: per chunk the slice list, the visible
/// intervals (later slices win), then the blocks of each interval. Shared by read-ahead and cache warm-up, so the two
/// can never disagree about which objects a read would touch.
/// </summary>
public static class FileBlocks
{
    /// <summary>
    /// Calls <paramref name="visit"/> for each block holding [<paramref name="from"/>, <paramref name="to"/>), in file
    /// order, with the file offset where the block's visible part starts. A block visible in two intervals (a slice
    /// partly overwritten) is visited twice. Returns <paramref name="to"/>, or the offset of the block
    /// <paramref name="visit"/> refused (it returned false). A file gone meanwhile or an inconsistent slice ends the walk
    /// early but still returns <paramref name="to"/>: nothing more is readable, and the foreground read reports it.
    /// </summary>
    public static long Visit(IVolumeMeta meta, ulong ino, long from, long to, Func<BlockRef, long, bool> visit)
    {
        long chunkSize = meta.ChunkSize;
        for (long chunk = from / chunkSize; chunk * chunkSize < to; chunk++)
        {
            long chunkStart = chunk * chunkSize;
            uint a = (uint)(Math.Max(from, chunkStart) - chunkStart);
            uint b = (uint)(Math.Min(to, chunkStart + chunkSize) - chunkStart);
            if (meta.ReadChunk(ino, (uint)chunk, out var slices) != FsStatus.Ok) return to;
            foreach (var r in SliceIntervals.Visible(slices, a, b))
            {
                if ((ulong)r.Off + r.Len > r.Size) return to;
                if (Slice.IsInlineId(r.Id)) continue; // bytes in the metadata: no object to prefetch or warm
                for (long pos = r.Off, rEnd = (long)r.Off + r.Len; pos < rEnd;)
                {
                    int block = (int)(pos / Layout.BlockSize);
                    long next = Math.Min((long)(block + 1) * Layout.BlockSize, rEnd);
                    int length = ObjectKeys.BlockLength(r.Size, block);
                    long filePos = chunkStart + r.Pos + (pos - r.Off);
                    if (!visit(new BlockRef(ObjectKeys.BlockKey(r.Id, block, length), length), filePos)) return filePos;
                    pos = next;
                }
            }
        }
        return to;
    }

    /// <summary>The distinct blocks holding the first <paramref name="size"/> bytes of the file, in file order (holes have none).</summary>
    public static List<BlockRef> Keys(IVolumeMeta meta, ulong ino, ulong size)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keys = new List<BlockRef>();
        Visit(meta, ino, 0, (long)Math.Min(size, long.MaxValue), (block, _) =>
        {
            if (seen.Add(block.Key)) keys.Add(block);
            return true;
        });
        return keys;
    }
}
