using System.Collections.Concurrent;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// One export's file system: the metadata's namespace plus file data. Unflushed writes live in per-inode
/// <see cref="InodeBuffer"/>s; reads overlay them on the flushed slices.
/// </summary>
internal sealed partial class FsVolume(GatewayFileSystem fs, IVolumeMeta meta) : IFsVolume
{
    private readonly GatewayFileSystem _fs = fs;
    private readonly IVolumeMeta _meta = meta;
    private readonly ConcurrentDictionary<ulong, InodeBuffer> _buffers = new();
    private readonly ConcurrentDictionary<ulong, ReadStreams> _streams = new();

    /// <summary>
    /// Files whose access pattern is tracked at once. A detector is ~200 bytes, so 16,384 cost ~3 MiB; beyond that
    /// new files get no read-ahead until idle ones are dropped (after <see cref="StreamIdleMs"/>).
    /// </summary>
    private const int MaxTrackedFiles = 16_384;

    /// <summary>A file not read for 30 s forgets its streams: a reader coming back starts a new pattern anyway.</summary>
    private const long StreamIdleMs = 30_000;

    internal IVolumeMeta Meta => _meta;

    public async ValueTask<ReadResult> ReadAsync(Credential cred, ulong ino, ulong offset, Memory<byte> destination, CancellationToken ct = default)
    {
        var st = _meta.CheckRead(cred, ino, out var attr);
        if (st != FsStatus.Ok) return new ReadResult(st, 0, false, st == FsStatus.NoEnt ? null : attr);
        if (attr.Type == FileType.Directory) return new ReadResult(FsStatus.IsDir, 0, false, attr);
        if (attr.Type != FileType.Regular) return new ReadResult(FsStatus.Inval, 0, false, attr);
        if (offset >= attr.Size) return new ReadResult(FsStatus.Ok, 0, true, attr);

        int count = (int)Math.Min((ulong)destination.Length, attr.Size - offset);
        var dest = destination[..count];
        // Buffered bytes are copied BEFORE the slices are read: a flush finishing in between then shows the data
        // twice (same bytes) rather than not at all.
        var overlay = SnapshotBuffered(ino, (long)offset, count);
        // The read's own fetches are started first (ReadAsync runs synchronously up to its first wait), so
        // read-ahead never gets in their way.
        var read = _fs.Reader.ReadAsync(_meta, ino, offset, dest, ct);
        if (_fs.ReadAhead is { } ra) StartReadAhead(ra, ino, (long)offset, count, (long)attr.Size);
        st = await read.ConfigureAwait(false);
        if (st != FsStatus.Ok) return new ReadResult(st, 0, false, attr);
        if (overlay is not null)
            foreach (var (off, data) in overlay) data.CopyTo(dest.Span[(int)(off - (long)offset)..]);
        return new ReadResult(FsStatus.Ok, count, offset + (ulong)count >= attr.Size, attr);
    }

    /// <summary>Feeds the file's sequential detector and prefetches what it asks for. Best effort: never fails the read.</summary>
    private void StartReadAhead(ReadAhead ra, ulong ino, long offset, int count, long size)
    {
        try
        {
            if (!_streams.TryGetValue(ino, out var streams))
            {
                if (_streams.Count >= MaxTrackedFiles) return;
                streams = _streams.GetOrAdd(ino, static _ => new ReadStreams());
            }
            var (from, to, stream) = streams.OnRead(offset, offset + count, size, ra.MaxWindow, Environment.TickCount64);
            if (from >= to) return;
            long issued = ra.Issue(_meta, ino, from, to);
            if (issued < to) streams.Retreat(stream, issued);
        }
        catch (Exception ex)
        {
            Log.ReadAheadFailed(_fs.Logger, VolumeId, ino, ex);
        }
    }

    private List<(long Off, byte[] Data)>? SnapshotBuffered(ulong ino, long offset, int count)
    {
        List<(long Off, byte[] Data)>? buffered = null;
        if (_buffers.TryGetValue(ino, out var buf))
        {
            buffered = [];
            lock (buf.Lock)
            {
                // Older generation first: applying in list order lets newer bytes win.
                buf.Flushing?.CollectOverlaps(offset, offset + count, buffered);
                buf.Current.CollectOverlaps(offset, offset + count, buffered);
            }
        }
        if (_fs.Staging is not { } staging) return buffered is { Count: > 0 } ? buffered : null;
        // Staged records are older than anything buffered, so they go first. They are collected AFTER the buffer:
        // a flush registers its record before it lets go of its generation, so data moving from one to the other is
        // seen at least once; a record leaves only after its slices are in the metadata, which is read after this.
        var pieces = new List<(long Off, byte[] Data)>();
        staging.CollectOverlaps(VolumeId, ino, offset, offset + count, pieces);
        if (buffered is not null) pieces.AddRange(buffered);
        return pieces.Count == 0 ? null : pieces;
    }

    public async ValueTask<WriteResult> WriteAsync(Credential cred, ulong ino, ulong offset, ReadOnlyMemory<byte> data, StableHow stable, CancellationToken ct = default)
    {
        if (offset > Layout.MaxFileSize || offset + (ulong)data.Length > Layout.MaxFileSize)
            return WriteFail(FsStatus.FBig, ino);

        long n = data.Length;
        // Reserve before BeginWrite: a refused write must not have grown the file.
        if (!await _fs.Budget.ReserveAsync(n, _fs.Options.MaxWriteWait, _fs.KickAllFlushes, ct).ConfigureAwait(false))
        {
            Log.BufferFull(_fs.Logger, VolumeId, ino, n);
            return WriteFail(FsStatus.Jukebox, ino);
        }

        OpResult begin;
        InodeBuffer buf;
        bool fullBlock;
        long growth = 0, generation;
        try
        {
            (begin, buf, growth, fullBlock, generation) = BufferWrite(cred, ino, offset, data.Span);
        }
        finally
        {
            _fs.Budget.Release(n - growth);
        }
        if (begin.Status != FsStatus.Ok)
            return new WriteResult { Status = begin.Status, Before = begin.ObjBefore, After = begin.Obj };

        var committed = StableHow.Unstable;
        if (stable != StableHow.Unstable)
        {
            var st = await WaitDurableAsync(buf, generation, ct).ConfigureAwait(false);
            if (st != FsStatus.Ok)
                return new WriteResult { Status = FlushFailure(st), Before = begin.ObjBefore, After = begin.Obj };
            committed = StableHow.FileSync;
        }
        else if (fullBlock || _fs.Budget.Used >= _fs.Options.BackgroundFlushBytes)
        {
            _fs.EnqueueFlush(this, buf);
        }
        return new WriteResult { Status = FsStatus.Ok, Count = (uint)n, Committed = committed, Before = begin.ObjBefore, After = begin.Obj };
    }

    /// <summary>
    /// A stable write's durability: a group commit per file. The write registers for the file's next durable flush
    /// and one flusher per file runs those flushes back to back, each taking every write buffered before it started.
    /// Writers used to queue on <see cref="InodeBuffer.FlushLock"/> and each take it in turn to find its bytes already
    /// flushed: every handover was a thread-pool dispatch, so the lock sat idle between flushes and the groups stayed
    /// small (measured in perf/README.md, "Largest gaps", item 7).
    /// </summary>
    private async Task<FsStatus> WaitDurableAsync(InodeBuffer buf, long generation, CancellationToken ct)
    {
        Task<FsStatus> done;
        bool start = false;
        lock (buf.Lock)
        {
            if (buf.DurableGeneration >= generation) return FsStatus.Ok;
            Interlocked.Increment(ref _fs.StableWaitCount);
            done = (buf.DurableWaiters ??= new TaskCompletionSource<FsStatus>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            if (!buf.DurableFlusherRunning) start = buf.DurableFlusherRunning = true;
        }
        if (start) _ = RunDurableFlushesAsync(buf);
        return await done.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The file's group flusher: flushes while stable writes wait, then stops. The first flush runs on the thread of
    /// the write that started it; the flusher then moves to the pool so that write can reply.
    /// </summary>
    private async Task RunDurableFlushesAsync(InodeBuffer buf)
    {
        bool first = true;
        while (true)
        {
            TaskCompletionSource<FsStatus> waiters;
            lock (buf.Lock)
            {
                if (buf.DurableWaiters is null)
                {
                    buf.DurableFlusherRunning = false;
                    return;
                }
                waiters = buf.DurableWaiters;
                buf.DurableWaiters = null;
            }
            FsStatus st;
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                // Not the writers' tokens: the flush serves all of them. A failed flush puts its bytes back, so each
                // writer's client retries and nothing is lost.
                st = await FlushDurablyAsync(buf, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.FlushFailed(_fs.Logger, VolumeId, buf.Ino, 0, ex);
                st = FsStatus.Io;
            }
            Interlocked.Add(ref _fs.GroupFlushTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
            Interlocked.Increment(ref _fs.GroupFlushCount);
            waiters.SetResult(st);
            if (first)
            {
                first = false;
                await Task.Yield();
            }
        }
    }

    private WriteResult WriteFail(FsStatus status, ulong ino)
    {
        var res = new WriteResult { Status = status };
        if (_meta.GetAttr(ino, out var attr) == FsStatus.Ok)
        {
            res.Before = attr.Wcc;
            res.After = attr;
        }
        return res;
    }

    /// <summary>BeginWrite and buffering under the inode's gate, so a truncate sees the write wholly or not at all.</summary>
    private (OpResult Begin, InodeBuffer Buf, long Growth, bool FullBlock, long Generation) BufferWrite(Credential cred, ulong ino, ulong offset, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            var buf = _buffers.GetOrAdd(ino, static i => new InodeBuffer(i));
            buf.Gate.EnterReadLock();
            try
            {
                if (buf.Retired) continue;
                var begin = _meta.BeginWrite(cred, ino, offset, (uint)data.Length);
                if (begin.Status != FsStatus.Ok || data.IsEmpty) return (begin, buf, 0, false, long.MaxValue);
                lock (buf.Lock)
                {
                    // The last link went away after BeginWrite: the bytes have no file to land in.
                    if (buf.Dropped) return (begin, buf, 0, false, long.MaxValue);
                    long growth = buf.Current.Write((long)offset, data, out bool full);
                    buf.MarkDirty();
                    return (begin, buf, growth, full, buf.Generation);
                }
            }
            finally
            {
                buf.Gate.ExitReadLock();
            }
        }
    }

    public async ValueTask<OpResult> CommitAsync(Credential cred, ulong ino, CancellationToken ct = default)
    {
        var st = _meta.GetAttr(ino, out var before);
        if (st != FsStatus.Ok) return OpResult.Fail(st);
        var res = new OpResult { Status = FsStatus.Ok, ObjBefore = before.Wcc, Obj = before };

        _buffers.TryGetValue(ino, out var buf);
        if ((st = await FlushDurablyAsync(buf, ct).ConfigureAwait(false)) != FsStatus.Ok)
        {
            res.Status = FlushFailure(st);
            return res;
        }
        if (_meta.GetAttr(ino, out var after) == FsStatus.Ok) res.Obj = after;
        return res;
    }

    /// <summary>
    /// Makes everything written to the file so far durable (COMMIT, and each group of stable writes): a durable flush
    /// of its buffer, or, with nothing left to flush, a metadata sync, because earlier background flushes (which may
    /// have taken the bytes) and BeginWrites were not durable. When there was data, its durable commit hardens every
    /// earlier one too: engines log in order.
    /// </summary>
    private async Task<FsStatus> FlushDurablyAsync(InodeBuffer? buf, CancellationToken ct)
    {
        if (buf is not null)
        {
            var (st, hadData) = await FlushBufferAsync(buf, durable: true, ct).ConfigureAwait(false);
            if (st != FsStatus.Ok || hadData) return st;
        }
        return _fs.SyncMeta();
    }

    /// <summary>What a failed durable flush tells the client: Stale and Jukebox (staging full: retry later) as they are, else Io.</summary>
    private static FsStatus FlushFailure(FsStatus st) => st is FsStatus.Stale or FsStatus.Jukebox ? st : FsStatus.Io;

    /// <summary>
    /// Flushes the buffer's current generation into slices. On failure the data goes back under any newer writes
    /// (nothing is lost) and the status is returned. HadData tells whether there was anything to flush; when false
    /// and durability is wanted, the caller syncs the metadata (a background flush may have taken the bytes).
    /// </summary>
    internal async Task<(FsStatus Status, bool HadData)> FlushBufferAsync(InodeBuffer buf, bool durable, CancellationToken ct)
    {
        await buf.FlushLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            DirtyExtents gen;
            long number;
            lock (buf.Lock)
            {
                if (buf.Retired || buf.Current.IsEmpty) return (FsStatus.Ok, false);
                gen = buf.Current;
                number = buf.Generation++;
                buf.Flushing = gen;
                buf.Current = new DirtyExtents();
                buf.DirtySince = 0;
            }

            FsStatus status;
            Exception? error = null;
            try
            {
                // Writeback: a durable flush is staged locally; so is every flush of a file that still has staged
                // records, so nothing newer reaches the metadata before them.
                if (_fs.Staging is { } staging && (durable || staging.HasPending(VolumeId, buf.Ino)))
                {
                    status = await staging.StageAsync(VolumeId, buf.Ino, gen, ct).ConfigureAwait(false);
                    // The record holds the bytes; the file's size (BeginWrite, not durable) must survive with them.
                    if (status == FsStatus.Ok && durable) status = _fs.SyncMeta();
                }
                else
                {
                    status = await _fs.Uploader.UploadAsync(_meta, buf.Ino, gen, durable, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                error = ex;
                status = FsStatus.Io;
            }

            long release;
            lock (buf.Lock)
            {
                buf.Flushing = null;
                if (status == FsStatus.Ok && durable) buf.DurableGeneration = number;
                if (status == FsStatus.Ok || buf.Dropped || status == FsStatus.Stale)
                {
                    // Stale: the inode is gone (AddSlices queued the new slices for deletion); the data has no home.
                    release = gen.Bytes;
                    gen.Release();
                }
                else
                {
                    long before = gen.Bytes + buf.Current.Bytes;
                    gen.MergeFrom(buf.Current);
                    buf.Current = gen;
                    buf.MarkDirty();
                    release = before - gen.Bytes;
                }
            }
            _fs.Budget.Release(release);
            if (status == FsStatus.Stale) Log.FlushDropped(_fs.Logger, VolumeId, buf.Ino, status);
            else if (status != FsStatus.Ok) Log.FlushFailed(_fs.Logger, VolumeId, buf.Ino, buf.Current.Bytes, error);
            return (status, true);
        }
        finally
        {
            buf.FlushLock.Release();
        }
    }

    /// <summary>Background pass: queue old dirty data (or, with <paramref name="flushAll"/>, all of it) for flushing; retire idle buffers.</summary>
    internal void Tick(long now, bool flushAll)
    {
        long maxAge = (long)_fs.Options.MaxDirtyAge.TotalMilliseconds;
        foreach (var buf in _buffers.Values)
        {
            long bytes, since;
            bool flushing;
            lock (buf.Lock)
            {
                bytes = buf.Current.Bytes;
                since = buf.DirtySince;
                flushing = buf.Flushing is not null;
            }
            if (bytes > 0 && (flushAll || now - since >= maxAge)) _fs.EnqueueFlush(this, buf);
            else if (bytes == 0 && !flushing && !flushAll) TryRetire(buf);
        }
        foreach (var (ino, streams) in _streams)
            if (now - Volatile.Read(ref streams.LastRead) >= StreamIdleMs) _streams.TryRemove(new KeyValuePair<ulong, ReadStreams>(ino, streams));
    }

    /// <summary>Forgets an idle, clean buffer so long-running servers do not keep one per file ever written.</summary>
    private void TryRetire(InodeBuffer buf)
    {
        if (Volatile.Read(ref buf.Queued) != 0 || !buf.FlushLock.Wait(0)) return;
        try
        {
            if (!buf.Gate.TryEnterWriteLock(0)) return;
            try
            {
                lock (buf.Lock)
                {
                    if (buf.Retired || !buf.Current.IsEmpty || buf.Flushing is not null) return;
                    buf.Retired = true;
                }
                _buffers.TryRemove(new KeyValuePair<ulong, InodeBuffer>(buf.Ino, buf));
            }
            finally
            {
                buf.Gate.ExitWriteLock();
            }
        }
        finally
        {
            buf.FlushLock.Release();
        }
    }

    /// <summary>Flushes every buffer of this volume; returns how many failed.</summary>
    internal async Task<int> FlushAllAsync(CancellationToken ct)
    {
        int failed = 0;
        foreach (var buf in _buffers.Values)
        {
            var (st, _) = await FlushBufferAsync(buf, durable: false, ct).ConfigureAwait(false);
            if (st != FsStatus.Ok && st != FsStatus.Stale) failed++;
        }
        return failed;
    }
}
