using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.RocksDb;

namespace NfsGate.Data.Tests.FileSystem;

public enum Backend { Memory, Disk }

/// <summary>
/// A file system over the real metadata store and a fault-injecting object store: in memory
/// (MemoryKvStore + MemoryObjectStore) or on disk (RocksKvStore + LocalDirObjectStore, reopened on restart).
/// </summary>
internal sealed class FsHarness : IAsyncDisposable
{
    private readonly Backend _backend;
    private readonly string? _dir;
    private readonly MemoryKvStore? _memoryKv;
    private volatile bool _failPuts, _failGets, _failDeletes;

    public MetadataStore Meta;
    public readonly FaultyObjectStore Store;
    public readonly FileSystemOptions Options;
    public readonly uint VolumeId;
    public GatewayFileSystem Fs;
    public IFsVolume Vol;

    /// <param name="legacyChunks">The volume as a build from before the chunk-size row left it: 64 MiB chunks of 16
    /// blocks, where one chunk's list holds many blocks' slices (packing and compaction across blocks).</param>
    public FsHarness(Backend backend, FileSystemOptions? options = null, bool legacyChunks = false)
    {
        _backend = backend;
        Options = options ?? Fast();
        IObjectStore inner;
        if (backend == Backend.Disk || Options.CommitMode == CommitMode.Writeback)
            _dir = Directory.CreateTempSubdirectory("nfsgate-fs-").FullName;
        // Writeback stages on local disk whatever the backend (the journal is files by design).
        if (Options.CommitMode == CommitMode.Writeback && Options.StagingPath is null)
            Options.StagingPath = Path.Combine(_dir!, "staging");
        if (backend == Backend.Disk)
        {
            inner = new LocalDirObjectStore(Path.Combine(_dir!, "objects"));
        }
        else
        {
            _memoryKv = new MemoryKvStore();
            inner = new MemoryObjectStore();
        }
        Store = new FaultyObjectStore(inner) { FailIf = (op, _) => (op == ObjectOps.Put && _failPuts) || (op == ObjectOps.Get && _failGets) || (op == ObjectOps.Delete && _failDeletes) };
        Meta = OpenMeta();
        VolumeId = Meta.GetOrCreateVolumeId("test");
        if (legacyChunks)
        {
            Meta.OpenVolume(VolumeId);
            Meta.Kv.Transact(t => { t.Delete(Keys.ChunkSize(VolumeId)); return 0; }, durable: true);
            Meta = new MetadataStore(Meta.Kv);
            Assert.Equal(Layout.LegacyChunkSize, Meta.OpenVolume(VolumeId).ChunkSize);
        }
        Fs = new GatewayFileSystem(Meta, Store, Options);
        Vol = Fs.Volume(VolumeId);
    }

    private MetadataStore OpenMeta() =>
        _backend == Backend.Disk ? new MetadataStore(new RocksKvStore(Path.Combine(_dir!, "meta"))) : new MetadataStore(_memoryKv!);

    /// <summary>Defaults, but retries and idle pauses that do not slow the tests down.</summary>
    public static FileSystemOptions Fast() => new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        DeleteIdleInterval = TimeSpan.FromMilliseconds(50),
        StagingMaxRetryDelay = TimeSpan.FromMilliseconds(200),
        CompactDeleteGrace = TimeSpan.FromMilliseconds(100),
        // A dispose is a crash or a restart here: it must not sit waiting for uploads that are set up to fail
        // (the graceful drain has its own tests, which set a timeout).
        StagingDrainTimeout = TimeSpan.Zero,
        // Off: these tests count, fail and remove objects, which small flushes would not make with it on. The inline
        // path has its own tests (InlineSliceTests), which turn it on, and the e2e runs use the product default.
        InlineMaxBytes = 0,
    };

    /// <summary><see cref="Fast"/>, compacting a chunk once it has more than <paramref name="sliceCount"/> slices (0: never).</summary>
    public static FileSystemOptions Compacting(int sliceCount)
    {
        var o = Fast();
        o.CompactSliceCount = sliceCount;
        return o;
    }

    public bool Writeback => Options.CommitMode == CommitMode.Writeback;

    /// <summary>
    /// Writeback only: <see cref="CommitAsync"/> also waits until the staged data is uploaded, so tests that count
    /// objects right after a COMMIT hold in both modes. Off to keep staged data around (reads must see it).
    /// </summary>
    public bool SettleOnCommit = true;

    internal GatewayFileSystem FsInternal => Fs;

    /// <summary>Waits until every staged record is uploaded and committed (at once in strict mode).</summary>
    public async Task SettleAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Fs.StagedRecords > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Fs.StagedRecords} staged records still not uploaded");
            await Task.Delay(10);
        }
    }

    public bool FailPuts { set => _failPuts = value; }
    public bool FailGets { set => _failGets = value; }
    public bool FailDeletes { set => _failDeletes = value; }
    public long DeleteCalls => Store.Calls(ObjectOps.Delete);
    public long GetCalls => Store.Calls(ObjectOps.Get);

    public int ObjectCount() => ObjectKeys().Count;

    public List<string> ObjectKeys()
    {
        var keys = new List<string>();
        var e = Store.Inner.ListAsync("chunks/").GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) keys.Add(e.Current.Key);
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return keys;
    }

    /// <summary>
    /// A new incarnation over the same metadata and objects (the disk backend reopens RocksDB). Not graceful: the old
    /// instance cannot store anything more (its puts fail), so its unflushed data is lost as in a crash.
    /// </summary>
    public async Task CrashAndRestartAsync(bool graceful = false)
    {
        bool failing = _failPuts;
        if (!graceful) _failPuts = true;
        await Fs.DisposeAsync();
        _failPuts = failing;
        if (_backend == Backend.Disk)
        {
            Meta.Dispose();
            Meta = OpenMeta();
        }
        Fs = new GatewayFileSystem(Meta, Store, Options);
        Vol = Fs.Volume(VolumeId);
    }

    public ulong NewFile(string name)
    {
        var res = Vol.Create(Credential.Root, INamespace.RootInode, name, CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 /* 0644 */ }, 0);
        Assert.Equal(FsStatus.Ok, res.Status);
        return res.Obj!.Value.Inode;
    }

    public async Task WriteAsync(ulong ino, long offset, byte[] data, StableHow stable = StableHow.Unstable)
    {
        var res = await Vol.WriteAsync(Credential.Root, ino, (ulong)offset, data, stable);
        Assert.Equal(FsStatus.Ok, res.Status);
        Assert.Equal((uint)data.Length, res.Count);
    }

    public async Task<byte[]> ReadAsync(ulong ino, long offset, int count)
    {
        var buf = new byte[count];
        var res = await Vol.ReadAsync(Credential.Root, ino, (ulong)offset, buf);
        Assert.Equal(FsStatus.Ok, res.Status);
        return buf.AsSpan(0, res.Count).ToArray();
    }

    public async Task CommitAsync(ulong ino)
    {
        var res = await Vol.CommitAsync(Credential.Root, ino);
        Assert.Equal(FsStatus.Ok, res.Status);
        if (Writeback && SettleOnCommit) await SettleAsync();
    }

    public ulong Size(ulong ino)
    {
        Assert.Equal(FsStatus.Ok, Vol.GetAttr(ino, out var a));
        return a.Size;
    }

    public OpResult Truncate(ulong ino, ulong size) => Vol.SetAttr(Credential.Root, ino, new SetAttrRequest { Size = size }, null);

    /// <summary>The slice list of one chunk of a file, as the metadata holds it (newest last).</summary>
    public IReadOnlyList<Slice> Slices(ulong ino, uint chunk = 0)
    {
        Assert.Equal(FsStatus.Ok, Meta.OpenVolume(VolumeId).ReadChunk(ino, chunk, out var slices));
        return slices;
    }

    /// <summary>The object keys of every block of the slices a chunk lists: what must exist once deletes are done.</summary>
    public HashSet<string> LiveBlockKeys(ulong ino, uint chunk = 0)
    {
        var live = new HashSet<string>();
        foreach (var sl in Slices(ino, chunk))
            for (int b = 0; b < NfsGate.FileSystem.ObjectKeys.BlockCount(sl.Size); b++)
                live.Add(NfsGate.FileSystem.ObjectKeys.BlockKey(sl.Id, b, NfsGate.FileSystem.ObjectKeys.BlockLength(sl.Size, b)));
        return live;
    }

    /// <summary>
    /// Reads the file in 1 MiB pieces (a client's READ size) and compares with the model. The file's size must be the
    /// model's, or, with <paramref name="modelMayBeLonger"/>, at most the model's (only the file's bytes are compared).
    /// </summary>
    public async Task CheckAsync(ulong ino, byte[] model, bool modelMayBeLonger = false)
    {
        const int Piece = 1 << 20;
        ulong size = Size(ino);
        if (modelMayBeLonger) Assert.True(size <= (ulong)model.Length, $"file is {size} bytes, the model {model.Length}");
        else Assert.Equal((ulong)model.Length, size);
        for (long off = 0; off < (long)size; off += Piece)
        {
            int n = (int)Math.Min(Piece, (long)size - off);
            var got = await ReadAsync(ino, off, n);
            int same = model.AsSpan((int)off, n).CommonPrefixLength(got);
            Assert.True(same == n && got.Length == n, $"bytes differ at {off + same}");
        }
    }

    /// <summary>Waits up to 20 s for <paramref name="condition"/>; <paramref name="state"/> says what was seen if it never holds.</summary>
    public static async Task PollAsync(Func<bool> condition, Func<string>? state = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 20 s" + (state is null ? "" : ": " + state()));
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Deletes a test's cache directory once the cache is idle. A fill detached from its reader can still write or
    /// evict into the directory while the delete walks it; the delete then fails, and such directories piled up in
    /// /tmp (three read-ahead test classes left about 250 MiB per run, 14 GB on the bench machine).
    /// </summary>
    public static async Task DeleteCacheDirAsync(NfsGate.Data.Cache.CachingObjectStore cache, string dir)
    {
        for (int attempt = 0; attempt < 50 && Directory.Exists(dir); attempt++)
        {
            if (attempt > 0) await Task.Delay(20);
            await cache.WhenIdleAsync();
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException) { }
        }
    }

    public static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    public async ValueTask DisposeAsync()
    {
        await Fs.DisposeAsync();
        Meta.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}
