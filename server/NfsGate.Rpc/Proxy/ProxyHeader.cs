using System.Net;

namespace NfsGate.Rpc.Proxy;

/// <summary>Outcome of reading a PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2).</summary>
public enum ProxyHeaderStatus
{
    /// <summary>A whole, valid header was read; see <see cref="ProxyHeader"/>.</summary>
    Ok,
    /// <summary>What arrived so far is a valid beginning: read more bytes and try again.</summary>
    NeedMore,
    /// <summary>The bytes are neither the v2 signature nor "PROXY " (the peer speaks RPC directly, or garbage).</summary>
    BadSignature,
    /// <summary>v2 with a version nibble other than 2, or a command other than LOCAL/PROXY.</summary>
    UnsupportedVersion,
    /// <summary>v2 announcing more than <see cref="ProxyHeaderParser.MaxV2Length"/> bytes, or a v1 line longer than 107 bytes.</summary>
    TooLong,
    /// <summary>An address family or transport we do not take (UNIX sockets, UDP).</summary>
    UnsupportedFamily,
    /// <summary>The header is cut short for its family, or a v1 line does not parse.</summary>
    Malformed,
    /// <summary>The peer closed (or stopped sending within the time allowed) before the header was complete.</summary>
    Truncated,
}

/// <summary>
/// A parsed header. <see cref="Source"/> is the real client (the address the balancer accepted a connection from);
/// null for the LOCAL command (the balancer's own health checks) and for "UNKNOWN"/AF_UNSPEC, where the spec says to
/// use the connection's own endpoints.
/// </summary>
public readonly record struct ProxyHeader(int Version, IPEndPoint? Source, IPEndPoint? Destination)
{
    public bool IsLocal => Source is null;
}
