using Microsoft.Extensions.Logging;
using NfsGate.Data;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Deletes the block objects of slices no file references any more (the metadata's delayed-delete queue), then
/// acknowledges them. Deleting is idempotent, so a crash between delete and ack only repeats work, and several
/// servers sharing the metadata may run this at once.
/// </summary>
internal sealed class BackgroundDeleter(IMetadataStore meta, IObjectStore store, FileSystemOptions options, ILogger logger)
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Runs a round soon instead of after the idle interval (an inode was just freed).</summary>
    public void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { } // already woken
    }

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            int acked = 0;
            try
            {
                acked = await RunOnceAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.LoopFailed(logger, "delete", ex);
            }
            if (acked > 0) continue;
            try
            {
                await _wake.WaitAsync(options.DeleteIdleInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One batch: deletes what it can, acknowledges those; returns how many were acknowledged.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        // Only entries whose time has come: compaction queues replaced slices with a grace period.
        var batch = DueDeletes.Take(meta, options.DeleteBatch);
        if (batch.Count == 0) return 0;
        var done = new bool[batch.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, batch.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.UploadConcurrency), CancellationToken = ct },
            async (i, c) => done[i] = await DeleteSliceAsync(batch[i], c).ConfigureAwait(false)).ConfigureAwait(false);
        var acked = new List<DeadSlice>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
            if (done[i]) acked.Add(batch[i]);
        if (acked.Count > 0) meta.AckDeletes(acked);
        return acked.Count;
    }

    private async Task<bool> DeleteSliceAsync(DeadSlice dead, CancellationToken ct)
    {
        if (dead.Id == 0) return true; // a hole: never an object
        if (Slice.IsInlineId(dead.Id)) return true; // its row in the metadata goes with the acknowledgement
        try
        {
            int blocks = ObjectKeys.BlockCount(dead.Size);
            for (int b = 0; b < blocks; b++)
            {
                string key = ObjectKeys.BlockKey(dead.Id, b, ObjectKeys.BlockLength(dead.Size, b));
                await Retry.RunAsync(async c => { await store.DeleteAsync(key, c).ConfigureAwait(false); return true; },
                    options, logger, "delete " + key, ct).ConfigureAwait(false);
            }
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.DeleteFailed(logger, dead.Id, ex);
            return false;
        }
    }
}
