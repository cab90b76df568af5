using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Protocol;
using NfsGate.Rpc;

namespace NfsGate.Benchmarks;

/// <summary>
/// One call through Nfs3Program's procedure table, the way the RPC connection loop runs it, minus the socket:
/// in-memory metadata (so the KV engine is not what is measured), a local-directory object store for READ's bytes.
/// Allocations per call are the number to watch: the goal for GETATTR/LOOKUP is none.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private string _dir = "";
    private MetadataStore _meta = null!;
    private GatewayFileSystem _fs = null!;
    private Nfs3Program _nfs = null!;
    private readonly XdrWriter _w = new(2 << 20);
    private RpcCall _getattr = null!, _lookup = null!, _read = null!;

    [Params(4096, 1 << 20)]
    public int ReadSize { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _dir = BenchDir.Create();
        _meta = new MetadataStore(new MemoryKvStore());
        _fs = new GatewayFileSystem(_meta, new LocalDirObjectStore(_dir), new FileSystemOptions(), NullLogger.Instance);
        var codec = new FileHandleCodec(_meta.GetOrCreateSecret());
        var table = new ExportTable();
        uint id = _meta.GetOrCreateVolumeId("bench");
        var export = new Export(id, "bench", "/", false, _fs.Volume(id));
        table.Replace([export]);
        _nfs = new Nfs3Program(table, _fs, codec, new Nfs3Options(), NullLogger.Instance);
        export.Volume.GetAttr(INamespace.RootInode, out var rootAttr);
        byte[] root = codec.Encode(new FileHandle(id, INamespace.RootInode, rootAttr.Generation));

        // A 1 MiB file written through the procedures themselves, FILE_SYNC so its bytes are in the object store.
        var created = await CallAsync(Nfs3Proc.CREATE, w => { w.WriteOpaque(root); w.WriteString("f"); w.WriteUInt32(0); for (int i = 0; i < 6; i++) w.WriteUInt32(0); });
        byte[] fh = HandleFromCreate(created);
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);
        await CallAsync(Nfs3Proc.WRITE, w => { w.WriteOpaque(fh); w.WriteUInt64(0); w.WriteUInt32((uint)data.Length); w.WriteUInt32(2); w.WriteOpaque(data); });

        _getattr = Call(Nfs3Proc.GETATTR, w => w.WriteOpaque(fh));
        _lookup = Call(Nfs3Proc.LOOKUP, w => { w.WriteOpaque(root); w.WriteString("f"); });
        _read = Call(Nfs3Proc.READ, w => { w.WriteOpaque(fh); w.WriteUInt64(0); w.WriteUInt32((uint)ReadSize); });
        _rpc.Register(_nfs);
        _getattrRecord = Record((uint)Nfs3Proc.GETATTR, _getattr.Args.Span);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _fs.DisposeAsync();
        _meta.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public ValueTask<AcceptStat> GetAttr() => Run(_getattr);

    [Benchmark]
    public ValueTask<AcceptStat> Lookup() => Run(_lookup);

    [Benchmark]
    public ValueTask<AcceptStat> Read() => Run(_read);

    /// <summary>
    /// GETATTR as the connection loop hands it over: a whole record (call header with an AUTH_SYS credential, then the
    /// arguments) through <see cref="RpcDispatcher"/>, reply included. The difference to <see cref="GetAttr"/> is the
    /// RPC layer's own cost per call.
    /// </summary>
    [Benchmark]
    public async ValueTask<int> GetAttrRecord()
    {
        using var reply = await _rpc.DispatchAsync(_getattrRecord, _client, 1, CancellationToken.None);
        return reply.Body.Length;
    }

    private readonly RpcDispatcher _rpc = new();
    private readonly IPEndPoint _client = new(IPAddress.Loopback, 700);
    private ReadOnlyMemory<byte> _getattrRecord;

    private static byte[] Record(uint proc, ReadOnlySpan<byte> args)
    {
        using var w = new XdrWriter();
        w.WriteUInt32(7);                 // xid
        w.WriteUInt32(0);                 // CALL
        w.WriteUInt32(2);                 // RPC version
        w.WriteUInt32(Nfs3Const.PROGRAM);
        w.WriteUInt32(Nfs3Const.VERSION);
        w.WriteUInt32(proc);
        using (var cred = new XdrWriter())
        {
            cred.WriteUInt32(12345);      // stamp
            cred.WriteString("bench-client");
            cred.WriteUInt32(0);          // uid
            cred.WriteUInt32(0);          // gid
            cred.WriteUInt32(0);          // no groups
            w.WriteUInt32((uint)AuthFlavor.AUTH_SYS);
            w.WriteOpaque(cred.WrittenSpan);
        }
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE);
        w.WriteUInt32(0);
        w.WriteFixedOpaque(args);
        return w.WrittenSpan.ToArray();
    }

    private ValueTask<AcceptStat> Run(RpcCall call)
    {
        _w.Truncate(0);
        return call.Procedure.Handler(call, _w, CancellationToken.None);
    }

    private RpcCall Call(Nfs3Proc proc, Action<XdrWriter> args)
    {
        using var w = new XdrWriter();
        args(w);
        return new RpcCall
        {
            Xid = 1, Program = Nfs3Const.PROGRAM, Version = Nfs3Const.VERSION,
            Procedure = _nfs.GetProcedure(Nfs3Const.VERSION, (uint)proc)!,
            Credential = new RpcCredential(AuthFlavor.AUTH_SYS, 0, 0, [], "bench"),
            Client = new IPEndPoint(IPAddress.Loopback, 700), ConnectionId = 1,
            Args = w.WrittenSpan.ToArray(),
        };
    }

    private async Task<byte[]> CallAsync(Nfs3Proc proc, Action<XdrWriter> args)
    {
        using var w = new XdrWriter();
        var st = await Run(Call(proc, args), w);
        var reply = w.WrittenSpan.ToArray();
        if (st != AcceptStat.SUCCESS || reply.Length < 4 || reply[3] != 0) throw new InvalidOperationException($"{proc} failed in setup");
        return reply;
    }

    private static ValueTask<AcceptStat> Run(RpcCall call, XdrWriter w) => call.Procedure.Handler(call, w, CancellationToken.None);

    private static byte[] HandleFromCreate(byte[] reply)
    {
        var r = new XdrReader(reply);
        r.ReadUInt32(); // NFS3_OK
        if (!r.ReadBool()) throw new InvalidOperationException("CREATE returned no handle");
        return r.ReadOpaque(Nfs3Const.NFS3_FHSIZE).ToArray();
    }
}
