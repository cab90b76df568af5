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
        var (status, slices) = await StoreAsync(meta.VolumeId, source, UploadLane.Client, ct).ConfigureAwait(false);
        if (status != FsStatus.Ok || slices.Count == 0) return status;
        status = meta.AddSlices(ino, slices, durable);
        if (status == FsStatus.Ok) fs.Compactor?.Notify(meta, ino, slices);
        return status;
    }

    /// <summary>
    /// Uploads the source's runs as new slices (not yet referenced by any file). On failure the blocks that did land
    /// are deleted again and the status is Io. The blocks take the volume's put options (its export's storage class)
    /// and slots of <paramref name="lane"/>.
    /// </summary>
    public async Task<(FsStatus Status, List<(uint Chunk, Slice Slice)> Slices)> StoreAsync(uint volumeId, IUploadSource source, UploadLane lane, CancellationToken ct)
    {
        var put = fs.PutOptions(volumeId);
        var groups = Plan(source);
        var slices = new List<(uint Chunk, Slice Slice)>();
        if (groups.Count == 0) return (FsStatus.Ok, slices);
        ulong firstId = fs.Meta.NewSliceIds(groups.Count);

        var uploads = new List<Task<string?>>();
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            ulong id = firstId + (ulong)g;
            uint packedOff = 0;
            foreach (var piece in group.Pieces)
            {
                slices.Add((group.Chunk, new Slice(id, group.Size, piece.Pos, packedOff, piece.Len)));
                packedOff += piece.Len;
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
            return (FsStatus.Io, slices);
        }
        return (FsStatus.Ok, slices);
    }

    /// <summary>
    /// Contiguous runs of the source, split at chunk boundaries; pieces of a block or more alone (a sequential writer's
    /// slices stay block-aligned), the rest packed per chunk.
    /// </summary>
    private static List<Packed> Plan(IUploadSource source)
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
                long chunk = start / Layout.ChunkSize, chunkStart = chunk * Layout.ChunkSize;
                long pieceEnd = Math.Min(end, chunkStart + Layout.ChunkSize);
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
