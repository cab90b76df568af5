using System.Buffers;
using NfsGate.Data;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Turns a detached buffer generation into slices: every contiguous dirty run, cut at chunk boundaries, is a piece.
/// A piece of a block or more becomes a slice of its own; the smaller pieces of one chunk are packed into ONE slice
/// (their bytes back to back), each referenced at its own place (Pos/Off/Len), so a flush of scattered small writes
/// costs one object per chunk, not one per write: 16 random 4 KiB FILE_SYNC writes are one PUT and one commit. A
/// slice is stored as blocks of at most <see cref="Layout.BlockSize"/> (relative to the slice's start). All blocks
/// are uploaded (in parallel, bounded) before ONE AddSlices makes them visible, so a crash or a failed upload never
/// leaves metadata pointing at missing objects.
/// </summary>
internal sealed class SliceUploader(GatewayFileSystem fs)
{
    private long _inlineBytes;

    /// <summary>Bytes committed inline (in the metadata, with no PUT on the write path) so far (for metrics).</summary>
    public long InlineBytes => Interlocked.Read(ref _inlineBytes);

    private readonly record struct Piece(uint Chunk, uint Pos, uint Len, long FileOffset);

    /// <summary>Pieces stored as one slice: Size bytes, the pieces' bytes back to back in file order.</summary>
    private sealed class Packed(uint chunk)
    {
        public readonly uint Chunk = chunk;
        public readonly List<Piece> Pieces = [];
        public uint Size;
    }

    public async Task<FsStatus> UploadAsync(IVolumeMeta meta, ulong ino, IUploadSource source, bool durable, CancellationToken ct)
    {
        // Only compaction ever moves inline bytes out to objects: without it they would stay in the metadata.
        int inlineMax = fs.Compactor is null ? 0 : fs.Options.InlineMaxBytes;
        var (status, slices, inline) = await StoreAsync(meta, source, UploadLane.Client, ct, inlineMax).ConfigureAwait(false);
        if (status != FsStatus.Ok || slices.Count == 0) return status;
        status = meta.AddSlices(ino, slices, durable, inline);
        if (status != FsStatus.Ok) return status;
        if (inline is not null)
            foreach (var d in inline) Interlocked.Add(ref _inlineBytes, d.Bytes.Length);
        fs.Compactor?.Notify(meta, ino, slices);
        return status;
    }

    /// <summary>
    /// Uploads the source's runs as new slices (not yet referenced by any file). On failure the blocks that did land
    /// are deleted again and the status is Io. The blocks take the volume's put options (its export's storage class)
    /// and slots of <paramref name="lane"/>.
    /// <para>
    /// A packed group of small pieces of at most <paramref name="inlineMax"/> bytes is not uploaded: its bytes are
    /// returned as <see cref="InlineData"/> for the caller to commit with the slices, in the same metadata transaction.
    /// Why: a flush of scattered 4 KiB stable writes then costs one metadata commit (one WAL fsync), not an object PUT
    /// plus the commit. A PUT is two fsyncs and a rename on the local store and a round trip to S3, and it sat on the
    /// client's critical path: it dominated random-write latency (perf/README.md). The bytes are exactly as durable
    /// as the metadata that references them; compaction moves them into objects (<see cref="Compaction.SliceCompactor"/>).
    /// </para>
    /// </summary>
    public async Task<(FsStatus Status, List<(uint Chunk, Slice Slice)> Slices, List<InlineData>? Inline)> StoreAsync(
        IVolumeMeta meta, IUploadSource source, UploadLane lane, CancellationToken ct, int inlineMax = 0)
    {
        var put = fs.PutOptions(meta.VolumeId);
        var groups = Plan(source, meta.ChunkSize);
        var slices = new List<(uint Chunk, Slice Slice)>();
        if (groups.Count == 0) return (FsStatus.Ok, slices, null);
        ulong firstId = fs.Meta.NewSliceIds(groups.Count);

        var uploads = new List<Task<string?>>();
        List<InlineData>? inline = null;
        long inlineLeft = MaxInlinePerFlush;
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            ulong id = firstId + (ulong)g;
            bool small = group.Size <= inlineMax && group.Size <= inlineLeft;
            if (small) id |= Slice.InlineFlag;
            uint packedOff = 0;
            foreach (var piece in group.Pieces)
            {
                slices.Add((group.Chunk, new Slice(id, group.Size, piece.Pos, packedOff, piece.Len)));
                packedOff += piece.Len;
            }
            if (small)
            {
                inlineLeft -= group.Size;
                (inline ??= []).Add(new InlineData(id, await CopyGroupAsync(source, group, ct).ConfigureAwait(false)));
                continue;
            }
            int blocks = ObjectKeys.BlockCount(group.Size);
            for (int b = 0; b < blocks; b++)
            {
                int len = ObjectKeys.BlockLength(group.Size, b);
                uploads.Add(UploadBlockAsync(ObjectKeys.BlockKey(id, b, len), source, group, (long)b * Layout.BlockSize, len, put, lane, ct));
            }
        }

        var keys = await Task.WhenAll(uploads).ConfigureAwait(false);
        if (Array.IndexOf(keys, null) >= 0)
        {
            // Nothing references these slice ids, so nothing else would ever delete the blocks that did land.
            foreach (var key in keys)
                if (key is not null) await TryDeleteAsync(key).ConfigureAwait(false);
            return (FsStatus.Io, slices, null);
        }
        return (FsStatus.Ok, slices, inline);
    }

    /// <summary>
    /// Inline bytes one flush may put into one metadata transaction: 1 MiB. A flush of small pieces spread over many
    /// chunks beyond it uploads the rest as objects, so a transaction (and the WAL record) stays small.
    /// </summary>
    internal const long MaxInlinePerFlush = 1 << 20;

    /// <summary>
    /// A packed group's bytes in an array of their own, so nothing pooled has to be handed back after the commit (a
    /// group of several pieces is gathered into a rented array). At most 64 KiB per group by default.
    /// </summary>
    private static async ValueTask<byte[]> CopyGroupAsync(IUploadSource source, Packed group, CancellationToken ct)
    {
        var bytes = new byte[group.Size];
        var lease = await GetSliceRangeAsync(source, group, 0, (int)group.Size, ct).ConfigureAwait(false);
        lease.Data.Span.CopyTo(bytes);
        if (lease.Rented is not null) ArrayPool<byte>.Shared.Return(lease.Rented);
        return bytes;
    }

    /// <summary>
    /// Contiguous runs of the source, split at chunk boundaries; pieces of a block or more alone (a sequential writer's
    /// slices stay block-aligned), the rest packed per chunk.
    /// </summary>
    private static List<Packed> Plan(IUploadSource source, long chunkSize)
    {
        var groups = new List<Packed>();
        Packed? small = null; // the current chunk's packed slice (runs come sorted, so chunks come in order)
        var extents = source.Runs();
        for (int k = 0; k < extents.Count;)
        {
            long start = extents[k].Off, end = extents[k].End;
            for (k++; k < extents.Count && extents[k].Off == end; k++) end = extents[k].End;
            while (start < end)
            {
                long chunk = start / chunkSize, chunkStart = chunk * chunkSize;
                long pieceEnd = Math.Min(end, chunkStart + chunkSize);
                var piece = new Piece((uint)chunk, (uint)(start - chunkStart), (uint)(pieceEnd - start), start);
                Packed into;
                if (piece.Len >= Layout.BlockSize)
                {
                    into = new Packed(piece.Chunk);
                    groups.Add(into);
                }
                else
                {
                    if (small is null || small.Chunk != piece.Chunk)
                    {
                        small = new Packed(piece.Chunk);
                        groups.Add(small);
                    }
                    into = small;
                }
                into.Pieces.Add(piece);
                into.Size += piece.Len;
                start = pieceEnd;
            }
        }
        return groups;
    }

    /// <summary>
    /// The bytes [off, off+length) of a slice: one source range when they lie in one piece (no copy for a buffer
    /// generation's single run), else gathered from the pieces they span into a pooled array.
    /// </summary>
    private static async ValueTask<Lease> GetSliceRangeAsync(IUploadSource source, Packed group, long off, int length, CancellationToken ct)
    {
        long pieceStart = 0;
        int first = 0;
        for (; first < group.Pieces.Count && pieceStart + group.Pieces[first].Len <= off; first++) pieceStart += group.Pieces[first].Len;
        var p = group.Pieces[first];
        if (off + length <= pieceStart + p.Len) return await source.GetRangeAsync(p.FileOffset + (off - pieceStart), length, ct).ConfigureAwait(false);

        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int at = 0;
            for (int i = first; at < length; i++)
            {
                p = group.Pieces[i];
                long inPiece = off + at - pieceStart;
                int n = (int)Math.Min(p.Len - inPiece, length - at);
                var part = await source.GetRangeAsync(p.FileOffset + inPiece, n, ct).ConfigureAwait(false);
                part.Data.Span.CopyTo(rented.AsSpan(at));
                if (part.Rented is not null) ArrayPool<byte>.Shared.Return(part.Rented);
                at += n;
                pieceStart += p.Len;
            }
            return new Lease(rented.AsMemory(0, length), rented);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
    }

    /// <summary>Uploads one block with retries; returns its key, or null when it could not be stored.</summary>
    private async Task<string?> UploadBlockAsync(string key, IUploadSource source, Packed group, long sliceOffset, int length, ObjectPutOptions put, UploadLane lane, CancellationToken ct)
    {
        await fs.Uploads.EnterAsync(lane, ct).ConfigureAwait(false);
        byte[]? rented = null;
        try
        {
            var lease = await GetSliceRangeAsync(source, group, sliceOffset, length, ct).ConfigureAwait(false);
            rented = lease.Rented;
            var data = lease.Data;
            await Retry.RunAsync(async c => { await fs.Store.PutAsync(key, data, put, c).ConfigureAwait(false); return true; },
                fs.Options, fs.Logger, "put " + key, ct).ConfigureAwait(false);
            return key;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.ObjectFailed(fs.Logger, "put " + key, fs.Options.ObjectRetries, ex.Message);
            return null;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            fs.Uploads.Exit(lane);
        }
    }

    private async Task TryDeleteAsync(string key)
    {
        try { await fs.Store.DeleteAsync(key).ConfigureAwait(false); }
        catch (Exception ex) { Log.ObjectRetry(fs.Logger, "delete orphan " + key, 1, ex.Message); }
    }
}
