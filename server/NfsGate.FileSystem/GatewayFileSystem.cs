using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Data;
using NfsGate.FileSystem.Compaction;
using NfsGate.FileSystem.Writeback;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// The protocol-neutral file system over metadata + object store. Owns the write buffers (with a global byte cap),
/// the background flushers, the background deleter and the write verifier.
/// </summary>
public sealed class GatewayFileSystem : IFileSystem
{
    private readonly Dictionary<uint, FsVolume> _volumes = [];
    private readonly Lock _volumesLock = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, ObjectPutOptions> _putOptions = new();
    private readonly Channel<(FsVolume Volume, InodeBuffer Buffer)> _flushQueue =
        Channel.CreateUnbounded<(FsVolume, InodeBuffer)>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private readonly Task _ticker;
    private readonly Task _deleter;
    private readonly Task[] _background;
    private int _disposed;

    internal IMetadataStore Meta { get; }

    public bool QuickNamespaceChanges => Meta.Kv.LocalCommits;
    internal IObjectStore Store { get; }
    internal FileSystemOptions Options { get; }
    internal ILogger Logger { get; }
    internal BufferBudget Budget { get; }
    /// <summary>Block upload slots: a client lane and a background (compaction) lane.</summary>
    internal UploadLanes Uploads { get; }
    internal SemaphoreSlim ReadSlots { get; }
    internal SliceUploader Uploader { get; }
    internal SliceReader Reader { get; }
    internal BackgroundDeleter Deleter { get; }
    /// <summary>Null when disabled (ReadAheadBlocks 0) or the store cannot prefetch.</summary>
    internal ReadAhead? ReadAhead { get; }

    /// <summary>Null in strict commit mode.</summary>
    internal StagingArea? Staging { get; }
    /// <summary>Null when compaction is off (CompactSliceCount 0).</summary>
    internal SliceCompactor? Compactor { get; }

    /// <summary>Chunks compacted so far (for metrics).</summary>
    public long Compactions => Compactor?.Compacted ?? 0;

    /// <summary>Compactions thrown away because a write changed the chunk meanwhile (for metrics).</summary>
    public long CompactionConflicts => Compactor?.Conflicts ?? 0;

    /// <summary>Bytes of small flushes committed inline in the metadata, with no object PUT on the write path (for metrics).</summary>
    public long InlineBytes => Uploader.InlineBytes;

    /// <summary>Chunks the inline sweep queued: inline bytes compaction had not moved into objects on its own (for metrics).</summary>
    public long InlineSweeps => Compactor?.Sweeps ?? 0;

    /// <summary>Writeback records fsync'ed locally but not yet uploaded (for metrics; 0 in strict mode).</summary>
    public long StagedRecords => Staging?.PendingRecords ?? 0;

    /// <summary>Bytes in the writeback staging directory (for metrics; 0 in strict mode).</summary>
    public long StagedBytes => Staging?.Budget.Used ?? 0;

    /// <summary>UNSTABLE write bytes buffered in memory, not yet flushed (for metrics: the strict-mode write backlog).</summary>
    public long BufferedBytes => Budget.Used;

    internal long StableWaitCount, GroupFlushCount, GroupFlushTicks;

    /// <summary>Stable WRITEs that waited for their file's group flush (for metrics).</summary>
    public long StableWrites => Interlocked.Read(ref StableWaitCount);

    /// <summary>Durable flushes run by the files' group flushers (for metrics: stable writes ÷ these = the group size).</summary>
    public long GroupFlushes => Interlocked.Read(ref GroupFlushCount);

    /// <summary>Time those flushes took, in seconds (for metrics: the wait a stable WRITE's group shares).</summary>
    public double GroupFlushSeconds => Interlocked.Read(ref GroupFlushTicks) / (double)System.Diagnostics.Stopwatch.Frequency;

    /// <summary>Block prefetches started by read-ahead (for metrics).</summary>
    public long PrefetchesIssued => ReadAhead?.Issued ?? 0;

    /// <summary>Block prefetches skipped for now because <see cref="FileSystemOptions.ReadAheadConcurrency"/> were in flight (for metrics).</summary>
    public long PrefetchesDeferred => ReadAhead?.Deferred ?? 0;

    public ulong WriteVerifier { get; }

    public GatewayFileSystem(IMetadataStore meta, IObjectStore store, FileSystemOptions options, ILogger? logger = null)
    {
        options.Validate();
        Meta = meta;
        Store = store;
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        Budget = new BufferBudget(options.MaxBufferBytes);
        Uploads = new UploadLanes(options.UploadConcurrency, options.CompactUploadConcurrency);
        ReadSlots = new SemaphoreSlim(Math.Max(1, options.ReadConcurrency));
        Uploader = new SliceUploader(this);
        Reader = new SliceReader(this);
        Deleter = new BackgroundDeleter(meta, store, options, Logger);
        if (options.ReadAheadBlocks > 0 && store is IPrefetchingStore prefetching)
            ReadAhead = new ReadAhead(prefetching, options, Logger);
        // A new incarnation may have lost unstable writes: clients compare verifiers and resend.
        WriteVerifier = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

        _workers = new Task[Math.Max(1, options.FlushWorkers)];
        for (int i = 0; i < _workers.Length; i++) _workers[i] = Task.Run(FlushWorkerAsync);
        _ticker = Task.Run(TickerAsync);
        _deleter = Task.Run(() => Deleter.RunAsync(_stop.Token));

        var background = new List<Task>();
        if (options.CompactSliceCount > 0)
        {
            Compactor = new SliceCompactor(this);
            background.Add(Task.Run(() => Compactor.RunAsync(_stop.Token)));
            background.Add(Task.Run(() => Compactor.SweepLoopAsync(_stop.Token)));
        }
        if (options.CommitMode == CommitMode.Writeback)
        {
            // Replays what an earlier run staged (also after kill -9) before any request is served.
            Staging = new StagingArea(this, options.StagingPath!);
            for (int i = 0; i < options.StagingUploaders; i++) background.Add(Task.Run(() => Staging.RunAsync(_stop.Token)));
        }
        _background = [.. background];
    }

    public IFsVolume Volume(uint volumeId)
    {
        lock (_volumesLock)
        {
            if (!_volumes.TryGetValue(volumeId, out var v))
                _volumes[volumeId] = v = new FsVolume(this, Meta.OpenVolume(volumeId));
            return v;
        }
    }

    /// <summary>
    /// Objects of <paramref name="volumeId"/> uploaded from now on get <paramref name="storageClass"/> (e.g. STANDARD_IA
    /// for an export of cold data; null = the store's default). Throws ArgumentException on a class the store cannot take.
    /// </summary>
    public void SetStorageClass(uint volumeId, string? storageClass)
    {
        var put = ObjectPutOptions.WithStorageClass(storageClass);
        if (put == ObjectPutOptions.Default) _putOptions.TryRemove(volumeId, out _);
        else _putOptions[volumeId] = put;
    }

    /// <summary>What every block upload of the volume passes to the store: flushes, staged records and compaction alike.</summary>
    internal ObjectPutOptions PutOptions(uint volumeId) => _putOptions.TryGetValue(volumeId, out var put) ? put : ObjectPutOptions.Default;

    /// <summary>The metadata of a volume (the staging uploader has only the volume id of a record).</summary>
    internal IVolumeMeta VolumeMeta(uint volumeId) => ((FsVolume)Volume(volumeId)).Meta;

    private FsVolume[] Volumes()
    {
        lock (_volumesLock) return [.. _volumes.Values];
    }

    internal void EnqueueFlush(FsVolume volume, InodeBuffer buf)
    {
        if (Interlocked.Exchange(ref buf.Queued, 1) == 0 && !_flushQueue.Writer.TryWrite((volume, buf)))
            Volatile.Write(ref buf.Queued, 0); // shutting down: FlushAllAsync takes it
    }

    /// <summary>A writer is waiting for buffer space: queue every dirty buffer.</summary>
    internal void KickAllFlushes()
    {
        long now = Environment.TickCount64;
        foreach (var v in Volumes()) v.Tick(now, flushAll: true);
    }

    internal FsStatus SyncMeta()
    {
        try
        {
            Meta.Kv.Sync();
            return FsStatus.Ok;
        }
        catch (Exception ex)
        {
            Log.LoopFailed(Logger, "metadata sync", ex);
            return FsStatus.Io;
        }
    }

    private async Task FlushWorkerAsync()
    {
        await foreach (var (volume, buf) in _flushQueue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Volatile.Write(ref buf.Queued, 0);
            try
            {
                // Not durable: COMMIT syncs the metadata. The data itself is on the object store either way.
                await volume.FlushBufferAsync(buf, durable: false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.LoopFailed(Logger, "flush", ex);
            }
        }
    }

    private async Task TickerAsync()
    {
        using var timer = new PeriodicTimer(Options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                bool overThreshold = Budget.Used >= Options.BackgroundFlushBytes;
                foreach (var v in Volumes()) v.Tick(now, overThreshold);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask FlushAllAsync(CancellationToken ct = default)
    {
        int failed = 0;
        foreach (var v in Volumes()) failed += await v.FlushAllAsync(ct).ConfigureAwait(false);
        SyncMeta();
        if (failed > 0) Log.LoopFailed(Logger, "flush-all", new ObjectStoreException($"{failed} files could not be flushed"));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (Staging is { } staging)
        {
            // Writeback: buffered data goes out (or into the journal), then the journal is uploaded while the
            // uploaders still run, so a clean stop leaves nothing only this node holds, unless it takes too long.
            await FlushAllAsync().ConfigureAwait(false);
            await staging.DrainAsync(Options.StagingDrainTimeout).ConfigureAwait(false);
        }
        _stop.Cancel();
        ReadAhead?.Stop();
        _flushQueue.Writer.TryComplete();
        Compactor?.Stop();
        Staging?.Stop();
        await Task.WhenAll([.. _workers, _ticker, _deleter, .. _background]).ConfigureAwait(false);
        // In writeback mode, files with staged records are staged again here (not uploaded): all of it is replayed at
        // the next start.
        await FlushAllAsync().ConfigureAwait(false);
        Staging?.CloseAll();
        _stop.Dispose();
    }
}
