using System.Diagnostics;
using System.Globalization;
using NfsGate.Metadata.Kv;
using RocksDbSharp;

namespace NfsGate.Metadata.RocksDb;

/// <summary>
/// The RocksDB engine behind <see cref="IKvStore"/>, for a single node.
/// <para>
/// Design: transactions run one at a time under a process-wide lock; the body reads the database directly plus
/// its own buffered writes, and commit is one atomic <see cref="WriteBatch"/>. With one writer at a time the
/// schedule is serial, hence serializable, with no conflict detection and no retries. We chose this over
/// OptimisticTransactionDB through the raw C API because the managed package has no transaction class: the
/// wrapper would be several hundred lines of unsafe interop plus a retry loop, and on a 2-core machine metadata
/// transactions are microseconds of CPU, so the lock is not what limits throughput — the fsync is.
/// </para>
/// <para>
/// Durable commits therefore do NOT fsync under the lock: the batch goes to the WAL unsynced (visible at once,
/// survives a process kill), the lock is released, and then the WAL is synced. Concurrent durable commits share
/// one fsync (group commit) instead of queueing behind each other's. A later transaction may read a value whose
/// fsync is still in flight; that is safe because the WAL is append-only, so its own durable commit syncs the
/// earlier write too, and a non-durable commit never promised power-loss safety.
/// </para>
/// <para>Reads (<see cref="Read{T}"/>) take a RocksDB snapshot and never touch the lock.</para>
/// </summary>
public sealed class RocksKvStore : IKvStore
{
    private readonly RocksDbSharp.RocksDb _db;
    private readonly Lock _txnLock = new();
    private readonly WriteOptions _unsynced = new WriteOptions().SetSync(false);
    private readonly ReadOptions _readLatest = new();
    private readonly string _path;
    private int _activeUsers;
    private volatile bool _disposed;
    private long _commits, _durableCommits, _aborts, _syncTicks;

    public RocksKvStore(string path, RocksKvOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(_path);
        var o = options ?? new RocksKvOptions();
        var table = new BlockBasedTableOptions()
            .SetBlockCache(Cache.CreateLru((ulong)o.BlockCacheBytes))
            .SetFilterPolicy(BloomFilterPolicy.Create(o.BloomBitsPerKey, false))
            .SetWholeKeyFiltering(true)
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true);
        var db = new DbOptions()
            .SetCreateIfMissing(true)
            .SetParanoidChecks(true)
            .SetBlockBasedTableFactory(table)
            .SetWriteBufferSize((ulong)o.WriteBufferBytes)
            .SetCompression(o.Compress ? Compression.Lz4 : Compression.No)
            .SetLevelCompactionDynamicLevelBytes(true)
            // Recover every record whose checksum verifies and stop at the first torn one: a kill -9 or power loss
            // leaves at most a torn tail, and everything before it was acknowledged.
            .SetWalRecoveryMode(Recovery.PointInTime)
            .SetKeepLogFileNum(4)
            .SetMaxLogFileSize(16UL << 20);
        Native.Instance.rocksdb_options_set_max_background_jobs(db.Handle, o.BackgroundJobs);
        // Reused WAL files carry each record's log number, so point-in-time recovery stops at the first record left
        // from the file's previous life, as it stops at a torn tail (RocksDB keeps this with PointInTime; the
        // kill -9 test in RocksKvCrashTests runs across reused files).
        Native.Instance.rocksdb_options_set_recycle_log_file_num(db.Handle, (UIntPtr)(ulong)o.RecycledWalFiles);
        try
        {
            _db = RocksDbSharp.RocksDb.Open(db, _path);
        }
        catch (RocksDbException e) when (e.Message.Contains("LOCK", StringComparison.Ordinal)
                                         || e.Message.Contains("lock hold", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"metadata store at {_path} is in use by another process (or already open in this one)", e);
        }
    }

    public string Engine => "rocksdb";

    /// <summary>A non-durable commit is an unsynced WAL append under the process lock (microseconds).</summary>
    public bool LocalCommits => true;

    /// <summary>The directory holding the database.</summary>
    public string Location => _path;

    public T Transact<T>(Func<IKvTxn, T> body, bool durable = false)
    {
        ArgumentNullException.ThrowIfNull(body);
        // A nested Transact would re-enter the lock and commit independently of the outer transaction,
        // silently breaking atomicity: refuse it loudly.
        if (_txnLock.IsHeldByCurrentThread) throw new InvalidOperationException("nested Transact on the same thread");
        EnterUse();
        try
        {
            T result;
            lock (_txnLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var txn = new RocksTxn(_db, null, _readLatest);
                try
                {
                    result = body(txn);
                }
                catch
                {
                    Interlocked.Increment(ref _aborts);
                    throw;
                }
                finally
                {
                    txn.Close();
                }
                if (txn.Writes.Count > 0)
                {
                    using var batch = new WriteBatch();
                    foreach (var (k, v) in txn.Writes)
                    {
                        if (v is null) batch.Delete(k); else batch.Put(k, v);
                    }
                    _db.Write(batch, _unsynced);
                }
                Interlocked.Increment(ref _commits);
            }
            if (durable)
            {
                // Timed here, not in SyncWal: the stat is read per durable commit, and Sync() is not one.
                long start = Stopwatch.GetTimestamp();
                SyncWal();
                Interlocked.Add(ref _syncTicks, Stopwatch.GetTimestamp() - start);
                Interlocked.Increment(ref _durableCommits);
            }
            return result;
        }
        finally
        {
            ExitUse();
        }
    }

    public T Read<T>(Func<IKvReader, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        EnterUse();
        try
        {
            using var snapshot = _db.CreateSnapshot();
            var reader = new RocksTxn(_db, snapshot);
            try { return body(reader); }
            finally { reader.Close(); }
        }
        finally
        {
            ExitUse();
        }
    }

    /// <summary>A point read straight into <paramref name="dest"/>: no snapshot, no value array (rocksdb_get_into_buffer).</summary>
    public unsafe int GetLatest(ReadOnlySpan<byte> key, Span<byte> dest)
    {
        EnterUse();
        try
        {
            UIntPtr length;
            byte found;
            fixed (byte* k = key)
            fixed (byte* d = dest)
                Native.Instance.rocksdb_get_into_buffer(_db.Handle, _readLatest.Handle, k, (UIntPtr)key.Length,
                    (IntPtr)d, (UIntPtr)dest.Length, out length, out found);
            return found == 0 ? -1 : checked((int)length);
        }
        finally
        {
            ExitUse();
        }
    }

    public void Sync()
    {
        EnterUse();
        try { SyncWal(); }
        finally { ExitUse(); }
    }

    /// <summary>fsync of every WAL byte written so far; concurrent callers are merged by RocksDB.</summary>
    private void SyncWal() => Native.Instance.rocksdb_flush_wal(_db.Handle, 1);

    public IReadOnlyDictionary<string, double> Stats()
    {
        var s = new Dictionary<string, double>
        {
            ["commits"] = Interlocked.Read(ref _commits),
            ["durable_commits"] = Interlocked.Read(ref _durableCommits),
            ["aborts"] = Interlocked.Read(ref _aborts),
            ["sync_seconds"] = Interlocked.Read(ref _syncTicks) / (double)Stopwatch.Frequency,
        };
        EnterUse();
        try
        {
            Add(s, "live_data_bytes", "rocksdb.estimate-live-data-size");
            Add(s, "keys_estimate", "rocksdb.estimate-num-keys");
            Add(s, "sst_bytes", "rocksdb.total-sst-files-size");
            Add(s, "memtable_bytes", "rocksdb.cur-size-all-mem-tables");
            Add(s, "block_cache_bytes", "rocksdb.block-cache-usage");
            Add(s, "pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes");
            Add(s, "running_compactions", "rocksdb.num-running-compactions");
            Add(s, "delayed_write_rate", "rocksdb.actual-delayed-write-rate");
            Add(s, "write_stopped", "rocksdb.is-write-stopped");
        }
        finally
        {
            ExitUse();
        }
        return s;
    }

    private void Add(Dictionary<string, double> s, string name, string property)
    {
        var text = _db.GetProperty(property);
        if (text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) s[name] = v;
    }

    /// <summary>Registers a caller that touches the native handle outside the lock, so <see cref="Dispose"/> waits
    /// for it instead of freeing the handle under it.</summary>
    private void EnterUse()
    {
        Interlocked.Increment(ref _activeUsers);
        if (_disposed)
        {
            Interlocked.Decrement(ref _activeUsers);
            throw new ObjectDisposedException(nameof(RocksKvStore));
        }
    }

    private void ExitUse() => Interlocked.Decrement(ref _activeUsers);

    public void Dispose()
    {
        if (_txnLock.IsHeldByCurrentThread) throw new InvalidOperationException("Dispose inside a transaction body");
        lock (_txnLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _activeUsers) > 0) spin.SpinOnce();
        // Closing flushes nothing to the WAL by itself: sync it so a clean shutdown loses no unsynced commits
        // even on a later power loss.
        SyncWal();
        _db.Dispose();
    }
}
