using System.Net;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>What a client may do with an export.</summary>
public enum ExportAccess : byte { None, ReadOnly, ReadWrite }

/// <summary>Which callers are mapped to the anonymous identity (exports(5) root_squash / all_squash / no_root_squash).</summary>
public enum SquashMode : byte { None, Root, All }

/// <summary>
/// One row of exports[].clients. <see cref="Match"/> is an IPv4/IPv6 CIDR, a single address or "*"; it is parsed
/// once, here, so a bad one fails at load time and never on the request path.
/// </summary>
public sealed record ClientRule
{
    /// <summary>nobody/nogroup on Debian, and knfsd's default anonuid/anongid.</summary>
    public const uint DefaultAnonId = 65534;

    private readonly string _match = "*";
    private readonly IPNetwork? _net;

    public required string Match
    {
        get => _match;
        init
        {
            if (!TryParseMatch(value, out _net)) throw new ArgumentException($"client match must be a CIDR, an address or \"*\": '{value}'");
            _match = value;
        }
    }

    public ExportAccess Access { get; init; } = ExportAccess.ReadWrite;
    /// <summary>Root squash unless told otherwise, as knfsd: root on a client is not root on the server.</summary>
    public SquashMode Squash { get; init; } = SquashMode.Root;
    public uint AnonUid { get; init; } = DefaultAnonId;
    public uint AnonGid { get; init; } = DefaultAnonId;
    /// <summary>knfsd "secure": only calls from a source port below 1024 (which only root can bind on the client).</summary>
    public bool RequirePrivilegedPort { get; init; }

    /// <summary>"*" gives a null network (everyone); a bare address is a /32 or /128.</summary>
    public static bool TryParseMatch(string? s, out IPNetwork? net)
    {
        net = null;
        if (s is null || s.Length == 0) return false;
        if (s == "*") return true;
        if (s.Contains('/'))
        {
            // Host bits set ("10.1.2.3/16") is almost always a typo for another network: refused, not masked.
            if (!IPNetwork.TryParse(s, out var n) || !IPAddress.TryParse(s.AsSpan(0, s.IndexOf('/')), out var baseAddr) || !n.BaseAddress.Equals(baseAddr)) return false;
            net = n;
            return true;
        }
        if (!IPAddress.TryParse(s, out var ip)) return false;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        net = new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }

    public bool Matches(IPAddress client) => _net is not { } n || n.Contains(client);
}

/// <summary>The outcome of the client rules for one call: what the client may do and how its identity is mapped.</summary>
public readonly record struct ClientDecision(ExportAccess Access, SquashMode Squash, uint AnonUid, uint AnonGid)
{
    public static readonly ClientDecision Open = new(ExportAccess.ReadWrite, SquashMode.None, 0, 0);
    public static readonly ClientDecision Denied = new(ExportAccess.None, SquashMode.All, ClientRule.DefaultAnonId, ClientRule.DefaultAnonId);

    /// <summary>
    /// The credential every permission check then sees. Root squash maps uid 0 and gid 0 (also among the
    /// supplementary groups) to the anonymous ids, as knfsd does: keeping gid 0 would leave root's group rights.
    /// A client's calls share one mapped credential (<see cref="MappedCredentialCache"/>).
    /// </summary>
    public Credential Map(RpcCredential c) => MappedCredentialCache.Map(this, c);

    internal Credential MapUncached(RpcCredential c)
    {
        switch (Squash)
        {
            case SquashMode.All:
                return new Credential(AnonUid, AnonGid, []);
            case SquashMode.Root:
                uint uid = c.Uid == 0 ? AnonUid : c.Uid;
                uint gid = c.Uid == 0 || c.Gid == 0 ? AnonGid : c.Gid;
                uint[] gids = Array.IndexOf(c.Gids, 0u) < 0 ? c.Gids : Array.FindAll(c.Gids, g => g != 0);
                return new Credential(uid, gid, gids);
            default:
                return new Credential(c.Uid, c.Gid, c.Gids);
        }
    }
}
