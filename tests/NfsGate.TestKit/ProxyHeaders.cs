using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NfsGate.TestKit;

/// <summary>PROXY protocol headers as a load balancer sends them (haproxy doc/proxy-protocol.txt), for tests that play HAProxy.</summary>
public static class ProxyHeaders
{
    static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>v2, command PROXY, TCP over the source's family: "the client is <paramref name="source"/>".</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination)
    {
        bool v4 = source.AddressFamily == AddressFamily.InterNetwork;
        int addressBytes = v4 ? 4 : 16;
        var h = new byte[16 + 2 * addressBytes + 4];
        Signature.CopyTo(h, 0);
        h[12] = 0x21;                      // version 2, PROXY
        h[13] = (byte)(v4 ? 0x11 : 0x21);  // AF_INET / AF_INET6, STREAM
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(14), (ushort)(2 * addressBytes + 4));
        source.Address.GetAddressBytes().CopyTo(h, 16);
        destination.Address.GetAddressBytes().CopyTo(h, 16 + addressBytes);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(16 + 2 * addressBytes), (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(18 + 2 * addressBytes), (ushort)destination.Port);
        return h;
    }

    /// <summary>v2, command LOCAL: the balancer speaks for itself (its health checks).</summary>
    public static byte[] V2Local() => [.. Signature, 0x20, 0x00, 0x00, 0x00];

    /// <summary>v1 text: "PROXY TCP4 src dst sport dport\r\n".</summary>
    public static byte[] V1(IPEndPoint source, IPEndPoint destination) => Encoding.ASCII.GetBytes(
        $"PROXY {(source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");
}
