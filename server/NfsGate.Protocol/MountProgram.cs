using System.Text;
using Microsoft.Extensions.Logging;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>mountstat3 (RFC 1813 appendix I).</summary>
public enum MountStat3 : uint
{
    MNT3_OK = 0,
    MNT3ERR_PERM = 1,
    MNT3ERR_NOENT = 2,
    MNT3ERR_IO = 5,
    MNT3ERR_ACCES = 13,
    MNT3ERR_NOTDIR = 20,
    MNT3ERR_INVAL = 22,
    MNT3ERR_NAMETOOLONG = 63,
    MNT3ERR_NOTSUPP = 10004,
    MNT3ERR_SERVERFAULT = 10006,
}

/*
   RFC 1813 appendix I: the MOUNT protocol, version 3.

   const MNTPATHLEN = 1024;  // Maximum bytes in a path name
   const MNTNAMLEN  = 255;   // Maximum bytes in a name
   const FHSIZE3    = 64;    // Maximum bytes in a V3 file handle

   typedef opaque fhandle3<FHSIZE3>;
   typedef string dirpath<MNTPATHLEN>;
   typedef string name<MNTNAMLEN>;

   program MOUNT_PROGRAM {
      version MOUNT_V3 {
         void      MOUNTPROC3_NULL(void)    = 0;
         mountres3 MOUNTPROC3_MNT(dirpath)  = 1;
         mountlist MOUNTPROC3_DUMP(void)    = 2;
         void      MOUNTPROC3_UMNT(dirpath) = 3;
         void      MOUNTPROC3_UMNTALL(void) = 4;
         exports   MOUNTPROC3_EXPORT(void)  = 5;
      } = 3;
   } = 100005;

   struct mountres3_ok {
        fhandle3   fhandle;
        int        auth_flavors<>;
   };
   union mountres3 switch (mountstat3 fhs_status) {
   case MNT3_OK:
        mountres3_ok  mountinfo;
   default:
        void;
   };

   typedef struct mountbody *mountlist;
   struct mountbody {
        name       ml_hostname;
        dirpath    ml_directory;
        mountlist  ml_next;
   };

   typedef struct groupnode *groups;
   struct groupnode {
        name     gr_name;
        groups   gr_next;
   };

   typedef struct exportnode *exports;
   struct exportnode {
        dirpath  ex_dir;
        groups   ex_groups;
        exports  ex_next;
   };
*/
public sealed partial class MountProgram : OneVersionProgram
{
    public const uint PROGRAM = 100005;
    public const uint VERSION = 3;
    public const int MNTPATHLEN = 1024;
    public const int MNTNAMLEN = 255;
    /// <summary>Mount records kept for DUMP at most: the list is advisory and must not grow without bound.</summary>
    public const int MaxMountRecords = 10_000;

    private readonly ExportTable _exports;
    private readonly FileHandleCodec _codec;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly List<(string Host, string Dir)> _mounts = [];

    public MountProgram(ExportTable exports, FileHandleCodec codec, ILogger logger) : base(PROGRAM, VERSION, "mount")
    {
        _exports = exports;
        _codec = codec;
        _log = logger;
        Serve(
            new RpcProcedure(1, "MNT", Mnt),
            new RpcProcedure(2, "DUMP", Dump),
            new RpcProcedure(3, "UMNT", Umnt),
            new RpcProcedure(4, "UMNTALL", UmntAll),
            new RpcProcedure(5, "EXPORT", ExportList));
    }

    /// <summary>The current mount records (host, path), as DUMP reports them.</summary>
    public IReadOnlyList<(string Host, string Dir)> Mounts
    {
        get { lock (_lock) return [.. _mounts]; }
    }

    private static string HostOf(RpcCall call) => call.Client.Address.ToString();

    /// <summary>dirpath, read with a larger cap so an over-long path is MNT3ERR_NAMETOOLONG rather than GARBAGE_ARGS.</summary>
    private static MountStat3 ReadDirPath(RpcCall call, out string path)
    {
        var r = new XdrReader(call.Args.Span);
        var bytes = r.ReadOpaque(MNTPATHLEN * 4);
        path = "";
        if (bytes.Length > MNTPATHLEN) return MountStat3.MNT3ERR_NAMETOOLONG;
        if (bytes.IndexOf((byte)0) >= 0) return MountStat3.MNT3ERR_INVAL;
        path = Encoding.UTF8.GetString(bytes);
        return MountStat3.MNT3_OK;
    }

    private ValueTask<AcceptStat> Mnt(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        var st = ReadDirPath(call, out var path);
        Export? export = null;
        ulong ino = 0;
        if (st == MountStat3.MNT3_OK) st = _exports.Resolve(path, e => e.Decide(call.Client).Access != ExportAccess.None, out export, out ino);
        Attr attr = default;
        if (st == MountStat3.MNT3_OK && export!.Volume.GetAttr(ino, out attr) != FsStatus.Ok) st = MountStat3.MNT3ERR_NOENT;
        if (st != MountStat3.MNT3_OK)
        {
            LogMountRefused(_log, HostOf(call), path, st);
            w.WriteUInt32((uint)st);
            return ValueTask.FromResult(AcceptStat.SUCCESS);
        }

        w.WriteUInt32((uint)MountStat3.MNT3_OK);
        Span<byte> fh = stackalloc byte[FileHandleCodec.Size];
        _codec.Encode(new FileHandle(export!.Id, ino, attr.Generation), fh);
        w.WriteOpaque(fh);
        w.WriteUInt32(2);
        w.WriteUInt32((uint)AuthFlavor.AUTH_SYS);
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE);

        string host = HostOf(call);
        lock (_lock)
        {
            if (!_mounts.Contains((host, path)) && _mounts.Count < MaxMountRecords) _mounts.Add((host, path));
        }
        LogMounted(_log, host, path, export.Name);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> Dump(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        foreach (var (host, dir) in Mounts)
        {
            w.WriteBool(true);
            w.WriteString(host);
            w.WriteString(dir);
        }
        w.WriteBool(false);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> Umnt(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        // UMNT returns void whatever happens; a path too long was never mounted.
        if (ReadDirPath(call, out var path) == MountStat3.MNT3_OK)
        {
            string host = HostOf(call);
            lock (_lock) _mounts.Remove((host, path));
        }
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> UmntAll(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        string host = HostOf(call);
        lock (_lock) _mounts.RemoveAll(m => m.Host == host);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> ExportList(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        foreach (var e in _exports.All)
        {
            w.WriteBool(true);
            w.WriteString(e.Path);
            foreach (var g in e.ListedGroups)
            {
                w.WriteBool(true);
                w.WriteString(g);
            }
            w.WriteBool(false);
        }
        w.WriteBool(false);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Client {Host} mounted {Path} (export {Export})")]
    private static partial void LogMounted(ILogger logger, string host, string path, string export);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Client {Host} refused mount of {Path}: {Status}")]
    private static partial void LogMountRefused(ILogger logger, string host, string path, MountStat3 status);
}
