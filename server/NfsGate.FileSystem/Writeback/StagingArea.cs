using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NfsGate.Metadata;

namespace NfsGate.FileSystem.Writeback;

/// <summary>
/// The writeback journal: COMMITted data fsync'ed to a local directory, one <see cref="StagedRecord"/> per flush,
/// uploaded and committed to the metadata in the background (bounded: <see cref="FileSystemOptions.StagingUploaders"/>
/// files at a time, their blocks through the shared upload slots), retried with backoff while the object store fails,
/// and replayed from the directory after a restart. Staged bytes are capped (<see cref="Budget"/>).
/// </summary>
internal sealed class StagingArea
{
    private readonly GatewayFileSystem _fs;
    private readonly string _dir;
    private readonly ConcurrentDictionary<(uint, ulong), InodeStage> _stages = new();
    private readonly Channel<InodeStage> _work = Channel.CreateUnbounded<InodeStage>();
    private long _nextSeq;
    private long _uploaded, _failures;

    public BufferBudget Budget { get; }

    /// <summary>Records uploaded and committed (for metrics and tests).</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);
    /// <summary>Failed upload attempts of records (each is retried later).</summary>
    public long Failures => Interlocked.Read(ref _failures);
    public long PendingRecords
    {
        get
        {
            long n = 0;
            foreach (var s in _stages.Values)
                lock (s.Lock) n += s.Records.Count;
            return n;
        }
    }

    public StagingArea(GatewayFileSystem fs, string dir)
    {
        _fs = fs;
        _dir = Path.GetFullPath(dir);
        Budget = new BufferBudget(fs.Options.MaxStagingBytes);
        Directory.CreateDirectory(_dir);
        Recover();
    }

    /// <summary>Re-registers the records of an earlier run (in sequence order) and throws away torn temp files.</summary>
    private void Recover()
    {
        var found = new List<StagedRecord>();
        foreach (var path in Directory.EnumerateFiles(_dir))
        {
            if (path.EndsWith(StagedRecord.TempSuffix, StringComparison.Ordinal))
            {
                // Never renamed into place, so never acknowledged: the client still holds that data.
                File.Delete(path);
                continue;
            }
            if (!path.EndsWith(StagedRecord.Suffix, StringComparison.Ordinal)) continue;
            var rec = StagedRecord.Open(path, out var problem);
            if (rec is null)
            {
                // Kept (renamed) for an operator to look at rather than deleted: it may be someone's data.
                Log.StagingBad(_fs.Logger, path, problem ?? "");
                File.Move(path, path + ".bad", overwrite: true);
                continue;
            }
            found.Add(rec);
        }
        found.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        foreach (var rec in found)
        {
            _nextSeq = Math.Max(_nextSeq, (long)rec.Seq);
            Budget.Add(rec.FileBytes);
            Register(rec);
        }
        if (found.Count > 0) Log.StagingReplay(_fs.Logger, found.Count, Budget.Used, _dir);
    }

    /// <summary>True while the file has staged records not yet in the metadata (its flushes must be staged too).</summary>
    public bool HasPending(uint volume, ulong ino)
    {
        if (!_stages.TryGetValue((volume, ino), out var s)) return false;
        lock (s.Lock) return s.Records.Count > 0;
    }

    /// <summary>
    /// Writes <paramref name="gen"/> durably as the file's newest record. Waits up to MaxWriteWait for staging space,
    /// then gives up with Jukebox; Io when the disk fails. The record is registered (and read-visible) before this returns.
    /// </summary>
    public async Task<FsStatus> StageAsync(uint volume, ulong ino, DirtyExtents gen, CancellationToken ct)
    {
        long bytes = StagedRecord.SizeOf(gen);
        if (!await Budget.ReserveAsync(bytes, _fs.Options.MaxWriteWait, static () => { }, ct).ConfigureAwait(false))
        {
            Log.StagingFull(_fs.Logger, volume, ino, bytes, Budget.Used);
            return FsStatus.Jukebox;
        }
        StagedRecord rec;
        try
        {
            ulong seq = (ulong)Interlocked.Increment(ref _nextSeq);
            // fsync blocks for milliseconds: keep it off the caller's thread (an NFS connection loop).
            rec = await Task.Run(() => StagedRecord.Write(_dir, volume, ino, seq, gen), ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Budget.Release(bytes);
            if (ex is not (IOException or UnauthorizedAccessException)) throw;
            Log.StagingWriteFailed(_fs.Logger, volume, ino, ex);
            return FsStatus.Io;
        }
        if (rec.FileBytes != bytes)
        {
            Budget.Release(bytes);
            Budget.Add(rec.FileBytes);
        }
        Register(rec);
        return FsStatus.Ok;
    }

    private void Register(StagedRecord rec)
    {
        while (true)
        {
            var s = _stages.GetOrAdd((rec.Volume, rec.Ino), static k => new InodeStage(k.Item1, k.Item2));
            lock (s.Lock)
            {
                if (s.Removed) continue;
                if (s.Records.Count == 0) s.Emptied = new(TaskCreationOptions.RunContinuationsAsynchronously);
                s.Records.Add(rec);
                if (!s.Active)
                {
                    s.Active = true;
                    if (!_work.Writer.TryWrite(s)) s.Active = false; // shutting down: replayed next start
                }
                return;
            }
        }
    }

    /// <summary>Staged bytes overlapping [off, end), oldest first (newer records win when applied in order).</summary>
    public void CollectOverlaps(uint volume, ulong ino, long off, long end, List<(long Off, byte[] Data)> into)
    {
        if (!_stages.TryGetValue((volume, ino), out var s)) return;
        // Under the lock: the uploader deletes a record only under it, so its file cannot vanish mid-read.
        lock (s.Lock)
            foreach (var rec in s.Records) rec.CollectOverlaps(off, end, into);
    }

    /// <summary>
    /// Waits until every staged record of the file is in the metadata (a truncate must not be overtaken by older
    /// data). False when that did not happen within <paramref name="maxWait"/>.
    /// </summary>
    public bool WaitDrained(uint volume, ulong ino, TimeSpan maxWait)
    {
        if (!_stages.TryGetValue((volume, ino), out var s)) return true;
        Task emptied;
        lock (s.Lock)
        {
            if (s.Records.Count == 0) return true;
            emptied = s.Emptied.Task;
            s.Failures = 0; // someone is waiting: retry soon rather than after a long backoff
        }
        return emptied.Wait(maxWait);
    }

    /// <summary>The file is gone: its records are thrown away instead of uploaded.</summary>
    public void Drop(uint volume, ulong ino)
    {
        if (!_stages.TryGetValue((volume, ino), out var s)) return;
        lock (s.Lock) s.Dropped = true;
    }

    /// <summary>One uploader loop; several run side by side, each owning one file at a time.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var s in _work.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                await DrainAsync(s, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public void Stop() => _work.Writer.TryComplete();

    /// <summary>
    /// Graceful shutdown: waits up to <paramref name="maxWait"/> for every staged record to be uploaded and committed,
    /// cutting short any retry backoff. True when none is left; what is left stays on disk for the next start's replay.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan maxWait)
    {
        var emptied = new List<Task>();
        foreach (var s in _stages.Values)
        {
            lock (s.Lock)
            {
                if (s.Records.Count == 0) continue;
                emptied.Add(s.Emptied.Task);
                s.Failures = 0; // a file sitting out a backoff is retried at once (RequeueAfterAsync watches this)
            }
        }
        if (emptied.Count == 0) return true;
        long started = Environment.TickCount64;
        DrainLog.Draining(_fs.Logger, PendingRecords, Budget.Used, maxWait.TotalSeconds);
        try
        {
            await Task.WhenAll(emptied).WaitAsync(maxWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            DrainLog.DrainTimedOut(_fs.Logger, PendingRecords, Budget.Used, maxWait.TotalSeconds, _dir);
            return false;
        }
        DrainLog.Drained(_fs.Logger, (Environment.TickCount64 - started) / 1000.0);
        return true;
    }

    /// <summary>Uploads the file's records in order until none is left or one fails (then retries later).</summary>
    private async Task DrainAsync(InodeStage s, CancellationToken ct)
    {
        while (true)
        {
            StagedRecord rec;
            bool dropped;
            lock (s.Lock)
            {
                if (s.Records.Count == 0)
                {
                    s.Active = false;
                    s.Removed = true;
                    _stages.TryRemove(new KeyValuePair<(uint, ulong), InodeStage>((s.Volume, s.Ino), s));
                    s.Emptied.TrySetResult();
                    return;
                }
                rec = s.Records[0];
                dropped = s.Dropped;
            }

            FsStatus st = FsStatus.Stale;
            Exception? error = null;
            if (!dropped && !rec.Committed)
            {
                try
                {
                    // Durable: the record is deleted next, so the metadata must hold the slices on disk first.
                    st = await _fs.Uploader.UploadAsync(_fs.VolumeMeta(rec.Volume), rec.Ino, rec, durable: true, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return; // shutting down: the record stays for the next start
                }
                catch (Exception ex)
                {
                    error = ex;
                    st = FsStatus.Io;
                }
            }

            if (st is FsStatus.Ok or FsStatus.Stale)
            {
                if (st == FsStatus.Ok && !rec.Committed) Interlocked.Increment(ref _uploaded);
                rec.Committed = true;
                bool gone = false;
                lock (s.Lock)
                {
                    // The record leaves the list only once its file is gone for good: while it is listed, newer
                    // flushes of the file are staged behind it, never sent straight to the object store.
                    try
                    {
                        rec.Delete();
                        s.Records.RemoveAt(0);
                        s.Failures = 0;
                        gone = true;
                        // Under the lock, with the removal: whoever sees no record pending sees its bytes released too.
                        Budget.Release(rec.FileBytes);
                    }
                    catch (IOException ex)
                    {
                        error = ex;
                    }
                }
                if (gone) continue;
            }

            int failures;
            lock (s.Lock) failures = ++s.Failures;
            Interlocked.Increment(ref _failures);
            var delay = RetryDelay(failures);
            Log.StagingUploadFailed(_fs.Logger, rec.Volume, rec.Ino, rec.Seq, st, delay.TotalSeconds, error);
            // Retried later by whichever loop picks it up; this loop moves on to other files meanwhile.
            _ = RequeueAfterAsync(s, delay, ct);
            return;
        }
    }

    private TimeSpan RetryDelay(int failures)
    {
        double ms = _fs.Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _fs.Options.StagingMaxRetryDelay.TotalMilliseconds));
    }

    private async Task RequeueAfterAsync(InodeStage s, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            // Short steps, so a truncate waiting for this file (it resets Failures) does not sit out a long backoff.
            for (var left = delay; left > TimeSpan.Zero; left -= TimeSpan.FromMilliseconds(100))
            {
                await Task.Delay(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
                lock (s.Lock) if (s.Failures == 0) break;
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (!_work.Writer.TryWrite(s))
            lock (s.Lock) s.Active = false;
    }

    /// <summary>Closes the records' files (they stay on disk for the next start).</summary>
    public void CloseAll()
    {
        foreach (var s in _stages.Values)
            lock (s.Lock)
                foreach (var rec in s.Records) rec.Dispose();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"staging {_dir}");
}
