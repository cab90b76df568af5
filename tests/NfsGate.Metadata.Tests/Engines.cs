using NfsGate.Metadata.Kv;
using NfsGate.Metadata.RocksDb;
using NfsGate.Metadata.Postgres;
using NfsGate.TestShared;

namespace NfsGate.Metadata.Tests;

/// <summary>Makes a fresh engine of each kind; RocksDB ones live in a temp directory removed on dispose.</summary>
public static class Engines
{
    public static IKvStore Memory() => new MemoryKvStore();

    public static IKvStore Rocks() => new TempRocks();

    /// <summary>PostgreSQL (the shared engine): a fresh table in the test process's throwaway cluster, dropped on dispose.</summary>
    public static IKvStore Postgres() => new TempPostgres();

    private sealed class TempPostgres : IKvStore
    {
        private readonly PostgresKvStore _inner =
            new(PostgresCluster.ConnectionString, new PostgresKvOptions { Table = "t_" + Guid.NewGuid().ToString("N"), MaxPoolSize = 8 });
        public string Engine => _inner.Engine;
        public bool LocalCommits => ((IKvStore)_inner).LocalCommits;
        public T Transact<T>(Func<IKvTxn, T> body, bool durable = false) => _inner.Transact(body, durable);
        public T Read<T>(Func<IKvReader, T> body) => _inner.Read(body);
        public void Sync() => _inner.Sync();
        public IReadOnlyDictionary<string, double> Stats() => _inner.Stats();

        public void Dispose()
        {
            _inner.DropTable();
            _inner.Dispose();
        }
    }

    /// <summary>RocksKvStore plus cleanup of its directory.</summary>
    private sealed class TempRocks : IKvStore
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "nfsgate-meta-" + Guid.NewGuid().ToString("N"));
        private readonly RocksKvStore _inner;

        public TempRocks() => _inner = new RocksKvStore(_dir);
        public string Engine => _inner.Engine;
        public bool LocalCommits => _inner.LocalCommits;
        public int GetLatest(ReadOnlySpan<byte> key, Span<byte> dest) => _inner.GetLatest(key, dest);
        public T Transact<T>(Func<IKvTxn, T> body, bool durable = false) => _inner.Transact(body, durable);
        public T Read<T>(Func<IKvReader, T> body) => _inner.Read(body);
        public void Sync() => _inner.Sync();
        public IReadOnlyDictionary<string, double> Stats() => _inner.Stats();

        public void Dispose()
        {
            _inner.Dispose();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>A fresh store and volume 1 with short helpers; tests read as shell sessions.</summary>
public sealed class Fs : IDisposable
{
    public static readonly Credential Root = Credential.Root;
    public const ulong RootIno = INamespace.RootInode;

    public readonly MetadataStore Store;
    public readonly IVolumeMeta V;

    /// <param name="legacyChunks">Volume 1 as a build from before the chunk-size row left it: 64 MiB chunks.</param>
    public Fs(IKvStore? kv = null, bool legacyChunks = false)
    {
        Store = new MetadataStore(kv ?? Engines.Memory());
        V = Store.OpenVolume(1);
        if (!legacyChunks) return;
        Store.Kv.Transact(t => { t.Delete(Keys.ChunkSize(1)); return 0; }, durable: true);
        Store = new MetadataStore(Store.Kv);
        V = Store.OpenVolume(1);
        Assert.Equal(Layout.LegacyChunkSize, V.ChunkSize);
    }

    public static SetAttrRequest Mode(uint mode) => new() { Mode = mode };

    public OpResult Create(string name, ulong dir = RootIno, Credential? cred = null, uint mode = 0x1A4) =>
        V.Create(cred ?? Root, dir, name, CreateMode.Guarded, Mode(mode), 0);

    public OpResult Mkdir(string name, ulong dir = RootIno, Credential? cred = null, uint mode = 0x1ED) =>
        V.Mkdir(cred ?? Root, dir, name, Mode(mode));

    /// <summary>Creates and returns the inode, asserting success.</summary>
    public ulong File(string name, ulong dir = RootIno, Credential? cred = null, uint mode = 0x1A4)
    {
        var r = Create(name, dir, cred, mode);
        Assert.Equal(FsStatus.Ok, r.Status);
        return r.Obj!.Value.Inode;
    }

    public ulong Dir(string name, ulong dir = RootIno, Credential? cred = null, uint mode = 0x1ED)
    {
        var r = Mkdir(name, dir, cred, mode);
        Assert.Equal(FsStatus.Ok, r.Status);
        return r.Obj!.Value.Inode;
    }

    /// <summary>Makes the root directory 0777 so non-root test users can create in it.</summary>
    public Fs OpenRoot()
    {
        Assert.Equal(FsStatus.Ok, V.SetAttr(Root, RootIno, Mode(0x1FF), null).Status);
        return this;
    }

    public Attr Get(ulong ino)
    {
        Assert.Equal(FsStatus.Ok, V.GetAttr(ino, out var a));
        return a;
    }

    public List<string> List(ulong dir, int page = 1000)
    {
        var names = new List<string>();
        ulong cookie = 0, verf = 0;
        while (true)
        {
            var r = V.ReadDir(Root, dir, cookie, verf, page, false);
            Assert.Equal(FsStatus.Ok, r.Status);
            foreach (var e in r.Entries) { names.Add(e.Name); cookie = e.Cookie; }
            verf = r.CookieVerifier;
            if (r.Eof) return names;
        }
    }

    public void Dispose() => Store.Dispose();
}
