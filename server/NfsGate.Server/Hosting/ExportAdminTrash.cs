using Microsoft.Extensions.Logging;
using NfsGate.Metadata;

namespace NfsGate.Server.Hosting;

public sealed partial class ExportAdmin
{
    /// <summary>How often expired trash is purged. Retention is meant in hours or days, so a minute of slack is nothing.</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Purges expired trash of every published export now; returns how many files were freed.</summary>
    public int PurgeExpiredTrash(DateTimeOffset now)
    {
        int freed = 0;
        foreach (var vol in _table.All.Select(e => e.Volume.VolumeId).Distinct())
        {
            int n;
            // Batches of 1000 per transaction keep each commit small on a trash of millions.
            while ((n = VolumeMeta.PurgeTrash(_meta.Kv, vol, now)) > 0)
            {
                freed += n;
                LogPurged(_log, vol, n);
            }
        }
        return freed;
    }

    /// <summary>Starts the background purge; dispose the result to stop it (waits for a pass in progress).</summary>
    public Func<ValueTask> StartTrashPurger()
    {
        var cts = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(PurgeInterval);
            while (await timer.WaitForNextTickAsync(cts.Token).ConfigureAwait(false))
            {
                try
                {
                    PurgeExpiredTrash(DateTimeOffset.UtcNow);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPurgeFailed(_log, e); // the next tick retries; the trash only grows meanwhile
                }
            }
        });
        return async () =>
        {
            cts.Cancel();
            try { await loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
            cts.Dispose();
        };
    }

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "trash of volume {Volume}: purged {Count} expired files")]
    static partial void LogPurged(ILogger logger, uint volume, int count);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Error, Message = "trash purge failed")]
    static partial void LogPurgeFailed(ILogger logger, Exception e);
}
