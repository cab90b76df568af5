using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.RocksDb;
using NfsGate.Protocol;
using NfsGate.Rpc;

namespace NfsGate.TestKit;

/// <summary>
/// A complete in-process NfsGate on 127.0.0.1:0: RocksDB metadata in a temp directory, an object store, the
/// gateway file system, and an RPC server with the NFSv3, MOUNT and portmapper programs (one port for all three).
/// One per test collection; each test takes a fresh export with <see cref="AddExport"/> so tests never see each
/// other's files.
/// </summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Export> _exports = [];
    private int _exportSeq;

    private ServerFixture(string dir, MetadataStore meta, IObjectStore store, GatewayFileSystem fs,
        ExportTable table, FileHandleCodec codec, RpcServer server, Nfs3Program nfs, MountProgram mount)
    {
        Directory = dir;
        Meta = meta;
        Store = store;
        FileSystem = fs;
        Exports = table;
        Codec = codec;
        Server = server;
        Nfs = nfs;
        Mount = mount;
    }

    /// <summary>Temp directory holding the metadata (and, by default, the objects); deleted on dispose.</summary>
    public string Directory { get; }
    public IMetadataStore Meta { get; }
    public IObjectStore Store { get; }
    public IFileSystem FileSystem { get; }
    public ExportTable Exports { get; }
    public FileHandleCodec Codec { get; }
    public RpcServer Server { get; }
    public Nfs3Program Nfs { get; }
    public MountProgram Mount { get; }
    public IPEndPoint EndPoint => Server.LocalEndPoints[0];
    public int Port => EndPoint.Port;

    /// <param name="objectStore">The object store over the fixture's temp directory; null = a directory of files under it.</param>
    public static ServerFixture Start(Func<string, IObjectStore>? objectStore = null, Nfs3Options? nfsOptions = null, ILoggerFactory? loggers = null)
    {
        loggers ??= NullLoggerFactory.Instance;
        var dir = Path.Combine(Path.GetTempPath(), "nfsgate-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var kv = new RocksKvStore(Path.Combine(dir, "meta"));
        var meta = new MetadataStore(kv);
        var objects = Path.Combine(dir, "objects");
        System.IO.Directory.CreateDirectory(objects);
        var store = objectStore is null ? new LocalDirObjectStore(objects) : objectStore(objects);
        var fs = new GatewayFileSystem(meta, store, new FileSystemOptions(), loggers.CreateLogger("fs"));
        var table = new ExportTable();
        var codec = new FileHandleCodec(meta.GetOrCreateSecret());
        var nfs = new Nfs3Program(table, fs, codec, nfsOptions ?? new Nfs3Options(), loggers.CreateLogger("nfs"));
        var mount = new MountProgram(table, codec, loggers.CreateLogger("mount"));
        var dispatcher = new RpcDispatcher(loggers.CreateLogger<RpcDispatcher>(), null, new DuplicateRequestCache());
        dispatcher.Register(nfs);
        dispatcher.Register(mount);
        var server = new RpcServer(dispatcher, new RpcServerOptions(), loggers);
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        int port = server.LocalEndPoints[0].Port;
        // The port is known only after binding; registering later is fine (the program table is copy-on-write).
        dispatcher.Register(new PortmapProgram(port, port));
        var f = new ServerFixture(dir, meta, store, fs, table, codec, server, nfs, mount);
        f.AddExport("root", "/");
        return f;
    }

    /// <summary>Publishes a new export (its own volume, so an empty tree); a unique name and path if none given.</summary>
    public Export AddExport(string? name = null, string? path = null, bool readOnly = false, IReadOnlyList<string>? groups = null)
    {
        lock (_lock)
        {
            int n = ++_exportSeq;
            name ??= $"t{n}";
            path ??= "/" + name;
            uint id = Meta.GetOrCreateVolumeId(name);
            var e = new Export(id, name, path, readOnly, FileSystem.Volume(id)) { Groups = groups ?? [] };
            _exports.Add(e);
            Exports.Replace(_exports);
            return e;
        }
    }

    /// <summary>Publishes an existing export's volume again under another path, e.g. read-only.</summary>
    public Export AddAlias(Export of, string path, bool readOnly)
    {
        lock (_lock)
        {
            // A second id for the same volume: handles from the alias say which export (and so which rights) they came through.
            uint id = Meta.GetOrCreateVolumeId("alias" + path);
            var e = new Export(id, "alias" + path, path, readOnly, of.Volume);
            _exports.Add(e);
            Exports.Replace(_exports);
            return e;
        }
    }

    /// <summary>Publishes an export built by the caller (e.g. over a fault-injecting volume); its id must be unused.</summary>
    public Export AddExport(Export e)
    {
        lock (_lock)
        {
            _exports.Add(e);
            Exports.Replace(_exports);
            return e;
        }
    }

    public void RemoveExport(Export e)
    {
        lock (_lock)
        {
            _exports.RemoveAll(x => x.Id == e.Id);
            Exports.Replace(_exports);
        }
    }

    public Task<Nfs3Client> ConnectAsync(RpcClientCredential? credential = null) => Nfs3Client.ConnectAsync(EndPoint, credential);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        await FileSystem.DisposeAsync().ConfigureAwait(false);
        Meta.Dispose(); // disposes the RocksDB store too
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
