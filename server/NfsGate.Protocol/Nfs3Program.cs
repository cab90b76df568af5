using Microsoft.Extensions.Logging;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

internal delegate ValueTask Nfs3Handler(Nfs3Request req, CancellationToken ct);

/// <summary>
/// One row of the procedure table (ganesha nfs3_func_desc[]): the flags the dispatcher acts on, and the size of
/// the resfail body in uint32 words when no attributes can be sent (every resfail is made of post_op_attr /
/// pre_op_attr, whose "do not follow" encoding is one zero word each).
/// </summary>
internal sealed record Nfs3ProcInfo(Nfs3Proc Proc, ProcFlags Flags, int FailWords, Nfs3Handler Handler);

/// <summary>
/// NFS version 3 (RFC 1813), program 100003. The dispatcher does, once for all procedures: credential mapping,
/// decoding and resolving the first file handle (BADHANDLE / STALE), refusing writes on read-only exports (ROFS),
/// and turning unexpected exceptions into NFS3ERR_SERVERFAULT with the procedure's resfail body.
/// </summary>
public sealed partial class Nfs3Program : IRpcProgram
{
    private readonly ExportTable _exports;
    private readonly IFileSystem _fs;
    private readonly FileHandleCodec _codec;
    private readonly ILogger _log;
    private readonly RpcProcedure?[] _procs;

    public Nfs3Program(ExportTable exports, IFileSystem fs, FileHandleCodec codec, Nfs3Options options, ILogger logger)
    {
        _exports = exports;
        _fs = fs;
        _codec = codec;
        Options = options;
        _log = logger;

        const ProcFlags W = ProcFlags.MakesWrite;
        // Reads of metadata and cached data take no group commit, fsync or flush lock: a connection's receive thread
        // may answer them itself. An uncached READ from object storage frees that thread at its first await.
        const ProcFlags Q = ProcFlags.Quick;
        // Namespace changes are not durable commits, so on an engine that commits locally (RocksDB) they are quick too:
        // REMOVE at one call in flight went from 6,900-7,500 to 9,700-10,200 per second that way (perf/README.md).
        // On a shared engine each one waits for the database, and a waiting call must not hold up the calls behind it.
        // (A CREATE that truncates an existing file waits like SETATTR does; that rare case is accepted here.)
        ProcFlags NI = ProcFlags.MakesWrite | ProcFlags.NonIdempotent | (fs is { QuickNamespaceChanges: true } ? Q : ProcFlags.None);
        Nfs3ProcInfo[] table =
        [
            new(Nfs3Proc.GETATTR, Q, 0, Nfs3GetAttr.Handle),
            // SETATTR is replayed from the duplicate-request cache as knfsd does: a retried truncate
            // arriving after a later WRITE would otherwise destroy data.
            // Never quick: a size change waits for the file's flush in progress and its staged writes.
            new(Nfs3Proc.SETATTR, ProcFlags.MakesWrite | ProcFlags.NonIdempotent, 2, Nfs3SetAttr.Handle),
            new(Nfs3Proc.LOOKUP, Q, 1, Nfs3Lookup.Handle),
            new(Nfs3Proc.ACCESS, Q, 1, Nfs3Access.Handle),
            new(Nfs3Proc.READLINK, Q, 1, Nfs3ReadLink.Handle),
            new(Nfs3Proc.READ, Q | ProcFlags.DataRead, 1, Nfs3Read.Handle),
            new(Nfs3Proc.WRITE, W | ProcFlags.DataWrite, 2, Nfs3Write.Handle),
            new(Nfs3Proc.CREATE, NI, 2, Nfs3Create.Handle),
            new(Nfs3Proc.MKDIR, NI, 2, Nfs3Mkdir.Handle),
            new(Nfs3Proc.SYMLINK, NI, 2, Nfs3Symlink.Handle),
            new(Nfs3Proc.MKNOD, NI, 2, Nfs3Mknod.Handle),
            new(Nfs3Proc.REMOVE, NI, 2, Nfs3Remove.Handle),
            new(Nfs3Proc.RMDIR, NI, 2, Nfs3Rmdir.Handle),
            new(Nfs3Proc.RENAME, NI, 4, Nfs3Rename.Handle),
            new(Nfs3Proc.LINK, NI, 3, Nfs3Link.Handle),
            new(Nfs3Proc.READDIR, Q, 1, Nfs3ReadDir.Handle),
            new(Nfs3Proc.READDIRPLUS, Q, 1, Nfs3ReadDirPlus.Handle),
            new(Nfs3Proc.FSSTAT, Q, 1, Nfs3FsStat.Handle),
            new(Nfs3Proc.FSINFO, Q, 1, Nfs3FsInfo.Handle),
            new(Nfs3Proc.PATHCONF, Q, 1, Nfs3PathConf.Handle),
            new(Nfs3Proc.COMMIT, ProcFlags.None, 2, Nfs3Commit.Handle),
        ];

        _procs = new RpcProcedure?[(int)Nfs3Proc.COMMIT + 1];
        _procs[0] = new RpcProcedure(0, "NULL", Nfs3Null.Handle, Q);
        foreach (var p in table)
        {
            var info = p;
            _procs[(int)p.Proc] = new RpcProcedure((uint)p.Proc, p.Proc.ToString(), (call, w, ct) => Observed(info, call, w, ct), p.Flags);
        }
    }

    public uint Program => Nfs3Const.PROGRAM;
    public uint LowVersion => Nfs3Const.VERSION;
    public uint HighVersion => Nfs3Const.VERSION;
    public string Name => "nfs";

    public Nfs3Options Options { get; }
    public ulong WriteVerifier => _fs.WriteVerifier;
    internal IFileSystem FileSystem => _fs;

    public RpcProcedure? GetProcedure(uint version, uint procedure) =>
        version == Nfs3Const.VERSION && procedure < (uint)_procs.Length ? _procs[procedure] : null;

    /// <summary>
    /// Checks a handle and finds what it names: BADHANDLE if this deployment never issued it; STALE if its export
    /// is gone, or the inode is gone or was reused (generation differs).
    /// </summary>
    public NfsStat3 Resolve(ReadOnlySpan<byte> raw, out Export? export, out FileHandle handle, out Attr attr)
    {
        export = null;
        attr = default;
        if (!_codec.TryDecode(raw, out handle)) return NfsStat3.NFS3ERR_BADHANDLE;
        export = _exports.ById(handle.ExportId);
        if (export is null) return NfsStat3.NFS3ERR_STALE;
        var st = export.Volume.GetAttr(handle.Inode, out attr);
        if (st == FsStatus.NoEnt || st == FsStatus.Stale || (st == FsStatus.Ok && attr.Generation != handle.Generation)) return NfsStat3.NFS3ERR_STALE;
        return Nfs3Status.From(st);
    }

    /// <summary>Writes nfs_fh3 (length-prefixed) for an object of export <paramref name="exportId"/>.</summary>
    public void WriteHandle(XdrWriter w, uint exportId, in Attr a)
    {
        Span<byte> fh = stackalloc byte[FileHandleCodec.Size];
        _codec.Encode(new FileHandle(exportId, a.Inode, a.Generation), fh);
        w.WriteOpaque(fh);
    }

    private async ValueTask<AcceptStat> Dispatch(Nfs3ProcInfo info, RpcCall call, XdrWriter w, CancellationToken ct)
    {
        int start = w.Length;
        Nfs3Request req;
        {
            var r = new XdrReader(call.Args.Span);
            var raw = Nfs3Xdr.ReadHandle(ref r);
            var st = Resolve(raw, out var export, out var handle, out var attr);
            var client = CheckClient(ref export, call, ref st);
            if (st == NfsStat3.NFS3_OK && export!.ReadOnly && info.Flags.HasFlag(ProcFlags.MakesWrite)) st = NfsStat3.NFS3ERR_ROFS;
            if (st != NfsStat3.NFS3_OK)
            {
                w.WriteUInt32((uint)st);
                Nfs3Xdr.WriteZeros(w, info.FailWords);
                return AcceptStat.SUCCESS;
            }
            req = new Nfs3Request
            {
                Program = this, Call = call, W = w, Client = client,
                Export = export!, Ino = handle.Inode, Attr = attr, ArgOffset = r.Position,
            };
        }
        if (!await AdmitAsync(info, req, ct).ConfigureAwait(false)) return AcceptStat.SUCCESS; // QoS: held back, or JUKEBOX
        try
        {
            await info.Handler(req, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not XdrException && e is not OperationCanceledException)
        {
            // The store failed underneath (object store outage, I/O error): the client gets a status it can
            // retry or report, with the procedure's resfail shape, instead of a dropped connection.
            LogFault(_log, info.Proc.ToString(), req.Export.Name, e);
            w.Truncate(start);
            w.WriteUInt32((uint)NfsStat3.NFS3ERR_SERVERFAULT);
            Nfs3Xdr.WriteZeros(w, info.FailWords);
        }
        return AcceptStat.SUCCESS;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "NFS3 {Proc} on export {Export} failed")]
    private static partial void LogFault(ILogger logger, string proc, string export, Exception e);
}
