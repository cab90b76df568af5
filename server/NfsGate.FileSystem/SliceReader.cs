using NfsGate.Data;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Fills a read from the slices in the metadata: for each chunk the read overlaps, the visible ranges
/// (<see cref="SliceIntervals"/>) are fetched as ranged GETs of exactly the bytes needed from each block,
/// in parallel (bounded) when the read spans several. Only the bytes no fetch fills are zeroed (holes, hole slices,
/// gaps): a sequential READ is one fetch covering it all, and zeroing 1 MiB to overwrite it at once cost a
/// noticeable share of a cached READ's CPU.
/// </summary>
internal sealed class SliceReader(GatewayFileSystem fs)
{
    private readonly record struct Fetch(string Key, int BlockOffset, int DestOffset, int Length);
    /// <summary>Bytes of an inline slice (a row in the metadata, see <see cref="Slice.InlineFlag"/>) for the read.</summary>
    private readonly record struct InlineCopy(ulong Id, uint Off, int DestOffset, int Length);

    public async Task<FsStatus> ReadAsync(IVolumeMeta meta, ulong ino, ulong offset, Memory<byte> dest, CancellationToken ct)
    {
        if (dest.IsEmpty) return FsStatus.Ok;
        var fetches = new List<Fetch>();
        List<InlineCopy>? inline = null;
        ulong end = offset + (ulong)dest.Length, chunkSize = (ulong)meta.ChunkSize;
        for (ulong chunk = offset / chunkSize; chunk * chunkSize < end; chunk++)
        {
            ulong chunkStart = chunk * chunkSize;
            uint from = (uint)(Math.Max(offset, chunkStart) - chunkStart);
            uint to = (uint)(Math.Min(end, chunkStart + chunkSize) - chunkStart);
            var st = meta.ReadChunk(ino, (uint)chunk, out var slices);
            if (st != FsStatus.Ok) return st;
            foreach (var r in SliceIntervals.Visible(slices, from, to))
            {
                if ((ulong)r.Off + r.Len > r.Size)
                {
                    Log.BadSlice(fs.Logger, r.Id, ino, r.Off, r.Len, r.Size);
                    return FsStatus.Io;
                }
                long destBase = (long)(chunkStart + r.Pos - offset);
                if (Slice.IsInlineId(r.Id))
                {
                    (inline ??= []).Add(new InlineCopy(r.Id, r.Off, (int)destBase, (int)r.Len));
                    continue;
                }
                for (long pos = r.Off, rEnd = (long)r.Off + r.Len; pos < rEnd;)
                {
                    int block = (int)(pos / Layout.BlockSize);
                    int inBlock = (int)(pos % Layout.BlockSize);
                    int n = (int)Math.Min(Layout.BlockSize - inBlock, rEnd - pos);
                    string key = ObjectKeys.BlockKey(r.Id, block, ObjectKeys.BlockLength(r.Size, block));
                    fetches.Add(new Fetch(key, inBlock, (int)(destBase + (pos - r.Off)), n));
                    pos += n;
                }
            }
        }

        ZeroUncovered(fetches, dest.Span);
        // After the zeroing, which knows only the object fetches. A row deleted under us (its compaction's grace
        // period passed while this read held the old list) is an Io, as a deleted object would be.
        if (inline is not null)
            foreach (var f in inline)
                if (!fs.Meta.ReadInline(f.Id, f.Off, dest.Span.Slice(f.DestOffset, f.Length)))
                {
                    Log.ReadFailed(fs.Logger, meta.VolumeId, ino, new ObjectStoreException($"inline slice {f.Id} is gone"));
                    return FsStatus.Io;
                }
        try
        {
            if (fetches.Count == 1)
            {
                await FetchAsync(fetches[0], dest, ct).ConfigureAwait(false);
            }
            else if (fetches.Count > 1)
            {
                var tasks = new Task[fetches.Count];
                for (int i = 0; i < tasks.Length; i++) tasks[i] = FetchAsync(fetches[i], dest, ct);
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            return FsStatus.Ok;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.ReadFailed(fs.Logger, meta.VolumeId, ino, ex);
            return FsStatus.Io;
        }
    }

    /// <summary>Zeroes what the fetches leave unwritten. Visible intervals never overlap, so neither do the fetches.</summary>
    private static void ZeroUncovered(List<Fetch> fetches, Span<byte> dest)
    {
        if (fetches.Count > 1) fetches.Sort(static (a, b) => a.DestOffset.CompareTo(b.DestOffset));
        int at = 0;
        foreach (var f in fetches)
        {
            if (f.DestOffset > at) dest[at..f.DestOffset].Clear();
            at = Math.Max(at, f.DestOffset + f.Length);
        }
        if (at < dest.Length) dest[at..].Clear();
    }

    private async Task FetchAsync(Fetch f, Memory<byte> dest, CancellationToken ct)
    {
        await fs.ReadSlots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var into = dest.Slice(f.DestOffset, f.Length);
            await Retry.RunAsync(async c =>
            {
                int got = await fs.Store.GetAsync(f.Key, f.BlockOffset, into, c).ConfigureAwait(false);
                // The length is in the object's name, so a short read means a damaged or foreign object.
                if (got != f.Length) throw new ObjectStoreException($"{f.Key}: read {got} of {f.Length} bytes at {f.BlockOffset}");
                return got;
            }, fs.Options, fs.Logger, "get " + f.Key, ct).ConfigureAwait(false);
        }
        finally
        {
            fs.ReadSlots.Release();
        }
    }
}
