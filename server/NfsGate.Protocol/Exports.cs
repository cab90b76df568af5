using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Protocol;

/// <summary>One export: a volume published under a mount path.</summary>
public sealed record Export(uint Id, string Name, string Path, bool ReadOnly, IFsVolume Volume)
{
    /// <summary>
    /// Clients allowed to mount (MOUNT EXPORT lists them as groups): an address, a CIDR network or "*". Empty = everyone.
    /// Host names and @netgroups are listed but never match: resolving them would put DNS on the mount path.
    /// </summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    public bool AllowsClient(System.Net.IPAddress client)
    {
        if (Groups.Count == 0) return true;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        foreach (var g in Groups)
        {
            if (g == "*") return true;
            if (System.Net.IPNetwork.TryParse(g, out var net) && net.Contains(client)) return true;
            if (System.Net.IPAddress.TryParse(g, out var ip) && ip.Equals(client)) return true;
        }
        return false;
    }
}

/// <summary>
/// The current set of exports. Lookups read an immutable snapshot, so a reload (<see cref="Replace"/>) is atomic
/// and never blocks a request. Thread-safe.
/// </summary>
public sealed class ExportTable
{
    private sealed record Snapshot(IReadOnlyList<Export> All, Dictionary<uint, Export> ById);

    private volatile Snapshot _snap = new([], []);

    public ExportTable() { }

    public ExportTable(IEnumerable<Export> exports) => Replace(exports);

    public IReadOnlyList<Export> All => _snap.All;

    public void Replace(IEnumerable<Export> exports)
    {
        var list = new List<Export>();
        var byId = new Dictionary<uint, Export>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in exports)
        {
            var path = NormalizePath(e.Path) ?? throw new ArgumentException($"export path must be absolute: '{e.Path}'");
            if (!byId.TryAdd(e.Id, e with { Path = path })) throw new ArgumentException($"duplicate export id {e.Id}");
            if (!paths.Add(path)) throw new ArgumentException($"duplicate export path '{path}'");
            list.Add(byId[e.Id]);
        }
        _snap = new Snapshot(list, byId);
    }

    public Export? ById(uint id) => _snap.ById.GetValueOrDefault(id);

    /// <summary>
    /// Resolves a MOUNT path: the export whose path is the longest prefix on a '/' boundary, then the remaining
    /// components looked up as root inside it (so a client may mount a subdirectory).
    /// </summary>
    public MountStat3 Resolve(string mountPath, out Export? export, out ulong inode)
    {
        export = null;
        inode = 0;
        // An empty path is what libnfs sends for nfs://host/file (the file's directory is ""): it means the
        // server's root, as it does for knfsd. Any other relative path is refused.
        var path = mountPath.Length == 0 ? "/" : NormalizePath(mountPath);
        if (path is null) return MountStat3.MNT3ERR_INVAL;

        Export? best = null;
        foreach (var e in _snap.All)
        {
            if (IsPrefix(e.Path, path) && (best is null || e.Path.Length > best.Path.Length)) best = e;
        }
        if (best is null) return MountStat3.MNT3ERR_NOENT;

        ulong ino = INamespace.RootInode;
        var rest = best.Path == "/" ? path : path[best.Path.Length..];
        foreach (var part in rest.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part is "." or "..") return MountStat3.MNT3ERR_INVAL; // never walk out of an export
            if (part.Length > Nfs3Const.NameMax) return MountStat3.MNT3ERR_NAMETOOLONG;
            var r = best.Volume.Lookup(Credential.Root, ino, part);
            if (r.Status != FsStatus.Ok || r.Obj is not { } found)
            {
                return r.Status switch
                {
                    FsStatus.NotDir => MountStat3.MNT3ERR_NOTDIR,
                    FsStatus.Acces or FsStatus.Perm => MountStat3.MNT3ERR_ACCES,
                    FsStatus.NameTooLong => MountStat3.MNT3ERR_NAMETOOLONG,
                    FsStatus.NoEnt => MountStat3.MNT3ERR_NOENT,
                    _ => MountStat3.MNT3ERR_SERVERFAULT,
                };
            }
            ino = found.Inode;
        }
        var st = best.Volume.GetAttr(ino, out var attr);
        if (st != FsStatus.Ok) return MountStat3.MNT3ERR_NOENT;
        if (attr.Type != FileType.Directory) return MountStat3.MNT3ERR_NOTDIR;
        export = best;
        inode = ino;
        return MountStat3.MNT3_OK;
    }

    private static bool IsPrefix(string prefix, string path) =>
        prefix == "/" || path == prefix || (path.StartsWith(prefix, StringComparison.Ordinal) && path[prefix.Length] == '/');

    /// <summary>Absolute path without trailing or repeated '/'; null if not absolute.</summary>
    public static string? NormalizePath(string p)
    {
        if (p.Length == 0 || p[0] != '/') return null;
        var parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', parts);
    }
}
