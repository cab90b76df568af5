using System.Buffers;
using NfsGate.Data;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Turns a detached buffer generation into slices: every contiguous dirty run, cut at chunk boundaries, becomes one
/// new slice, stored as blocks of at most <see cref="Layout.BlockSize"/> (relative to the slice's start). All blocks
/// are uploaded (in parallel, bounded) before ONE AddSlices makes them visible, so a crash or a failed upload never
/// leaves metadata pointing at missing objects.
/// </summary>
internal sealed class SliceUploader(GatewayFileSystem fs)
{
    private readonly record struct Piece(uint Chunk, uint Pos, uint Len, long FileOffset);

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
        var pieces = Plan(source);
        var slices = new List<(uint Chunk, Slice Slice)>(pieces.Count);
        if (pieces.Count == 0) return (FsStatus.Ok, slices);
        ulong firstId = fs.Meta.NewSliceIds(pieces.Count);

        var uploads = new List<Task<string?>>();
        for (int p = 0; p < pieces.Count; p++)
        {
            var piece = pieces[p];
            ulong id = firstId + (ulong)p;
            slices.Add((piece.Chunk, new Slice(id, piece.Len, piece.Pos, 0, piece.Len)));
            int blocks = ObjectKeys.BlockCount(piece.Len);
            for (int b = 0; b < blocks; b++)
            {
                int len = ObjectKeys.BlockLength(piece.Len, b);
                uploads.Add(UploadBlockAsync(ObjectKeys.BlockKey(id, b, len), source, piece.FileOffset + (long)b * Layout.BlockSize, len, put, lane, ct));
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

    /// <summary>Contiguous runs of the source, split at chunk boundaries.</summary>
    private static List<Piece> Plan(IUploadSource source)
    {
        var pieces = new List<Piece>();
        var extents = source.Runs();
        for (int k = 0; k < extents.Count;)
        {
            long start = extents[k].Off, end = extents[k].End;
            for (k++; k < extents.Count && extents[k].Off == end; k++) end = extents[k].End;
            while (start < end)
            {
                long chunk = start / Layout.ChunkSize, chunkStart = chunk * Layout.ChunkSize;
                long pieceEnd = Math.Min(end, chunkStart + Layout.ChunkSize);
                pieces.Add(new Piece((uint)chunk, (uint)(start - chunkStart), (uint)(pieceEnd - start), start));
                start = pieceEnd;
            }
        }
        return pieces;
    }

    /// <summary>Uploads one block with retries; returns its key, or null when it could not be stored.</summary>
    private async Task<string?> UploadBlockAsync(string key, IUploadSource source, long fileOffset, int length, ObjectPutOptions put, UploadLane lane, CancellationToken ct)
    {
        await fs.Uploads.EnterAsync(lane, ct).ConfigureAwait(false);
        byte[]? rented = null;
        try
        {
            var lease = await source.GetRangeAsync(fileOffset, length, ct).ConfigureAwait(false);
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
