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

    /// <summary>
    /// exports[].clients: ordered rules, the first whose match covers the client decides; no match = no access.
    /// Null = the export has no rules: open to every client, read-write, no squash (then <see cref="Groups"/> alone
    /// limits who may mount and use it).
    /// </summary>
    public IReadOnlyList<ClientRule>? Clients { get; init; }

    /// <summary>The export's quota as FSSTAT reports it (enforced in the volume's metadata); null = none.</summary>
    public VolumeQuota? Quota { get; init; }

    /// <summary>The use the quota counts (the trash excluded), for FSSTAT; null = the volume's whole usage.</summary>
    public Func<VolumeUsage>? QuotaUsage { get; init; }

    /// <summary>Decides for one call or mount: the rules (or groups) and, if the rule asks, a privileged source port.</summary>
    public ClientDecision Decide(System.Net.IPEndPoint client)
    {
        var addr = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        if (Clients is not { } rules) return AllowsClient(addr) ? ClientDecision.Open : ClientDecision.Denied;
        foreach (var r in rules)
        {
            if (!r.Matches(addr)) continue;
            if (r.Access == ExportAccess.None || (r.RequirePrivilegedPort && client.Port >= 1024)) return ClientDecision.Denied;
            return new ClientDecision(r.Access, r.Squash, r.AnonUid, r.AnonGid);
        }
        return ClientDecision.Denied;
    }

    /// <summary>What MOUNT EXPORT lists as groups: the legacy groups, or the matches of rules that grant access.</summary>
    public IEnumerable<string> ListedGroups =>
        Clients is { } rules ? rules.Where(r => r.Access != ExportAccess.None).Select(r => r.Match).Distinct() : Groups;

    private Export? _readOnlyView;

    /// <summary>This export as seen by a read-only client (ACCESS then never grants MODIFY/EXTEND/DELETE).</summary>
    internal Export ReadOnlyView => ReadOnly ? this : (_readOnlyView ??= this with { ReadOnly = true });

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
    public MountStat3 Resolve(string mountPath, out Export? export, out ulong inode) => Resolve(mountPath, null, out export, out inode);

    /// <summary>
    /// As <see cref="Resolve(string, out Export?, out ulong)"/>, refusing with MNT3ERR_ACCES before any lookup when
    /// <paramref name="allowed"/> says no: a client without access learns nothing of the export's directories.
    /// </summary>
    public MountStat3 Resolve(string mountPath, Func<Export, bool>? allowed, out Export? export, out ulong inode)
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
        if (allowed is not null && !allowed(best)) return MountStat3.MNT3ERR_ACCES;

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
