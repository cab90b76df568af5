using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NfsGate.Rpc.Proxy;

/// <summary>
/// Parses the PROXY protocol header a load balancer (HAProxy "send-proxy-v2" / "send-proxy") puts in front of the
/// first byte of a TCP stream, following haproxy's doc/proxy-protocol.txt:
/// <code>
/// v2: 12-byte signature \r\n\r\n\0\r\nQUIT\n | ver_cmd (0x20 LOCAL, 0x21 PROXY) | fam_proto (0x11 TCP/IPv4, 0x21 TCP/IPv6)
///     | len (16-bit big-endian) | addresses: IPv4 src 4, dst 4, sport 2, dport 2 (12 bytes); IPv6 16+16+2+2 (36) | TLVs
/// v1: "PROXY TCP4 192.0.2.1 198.51.100.2 51234 2049\r\n" (or TCP6, or "PROXY UNKNOWN ...\r\n"), at most 107 bytes
/// </code>
/// Synchronous, over whatever has arrived so far: the caller feeds it again on <see cref="ProxyHeaderStatus.NeedMore"/>.
/// TLVs (v2) are skipped: nothing we do depends on them.
/// </summary>
public static class ProxyHeaderParser
{
    /// <summary>
    /// Largest v2 address block + TLVs we accept. The addresses take at most 36 bytes (IPv6); HAProxy's optional TLVs
    /// (ALPN, authority, unique id ≤ 128, SSL details) stay well under 512 in practice. The field allows 65535: a
    /// balancer is trusted, but a misconfigured one must not make us buffer 64 KiB per connection.
    /// </summary>
    public const int MaxV2Length = 512;
    /// <summary>The spec's bound for a v1 line, CRLF included ("PROXY TCP6" with two full IPv6 addresses and ports).</summary>
    public const int MaxV1Length = 107;
    /// <summary>Fixed part of a v2 header: signature, ver_cmd, fam_proto, len.</summary>
    public const int V2FixedLength = 16;
    /// <summary>The most bytes a header can span: a caller that holds this many and still gets NeedMore has a bug.</summary>
    public const int MaxHeaderLength = V2FixedLength + MaxV2Length;

    public static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];
    static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>Parses the header at the start of <paramref name="buffer"/>; on Ok, <paramref name="consumed"/> is its length.</summary>
    public static ProxyHeaderStatus TryParse(ReadOnlySequence<byte> buffer, out ProxyHeader header, out int consumed)
    {
        // A header is at most MaxHeaderLength bytes: copying that much to the stack is simpler than walking segments.
        Span<byte> head = stackalloc byte[MaxHeaderLength];
        int n = (int)Math.Min(buffer.Length, MaxHeaderLength);
        buffer.Slice(0, n).CopyTo(head);
        return TryParse(head[..n], out header, out consumed);
    }

    public static ProxyHeaderStatus TryParse(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        if (data.IsEmpty) return ProxyHeaderStatus.NeedMore;
        if (data[0] == V2Signature[0]) return ParseV2(data, out header, out consumed);
        if (data[0] == V1Prefix[0]) return ParseV1(data, out header, out consumed);
        return ProxyHeaderStatus.BadSignature;
    }

    static ProxyHeaderStatus ParseV2(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        int sigBytes = Math.Min(data.Length, V2Signature.Length);
        if (!data[..sigBytes].SequenceEqual(V2Signature[..sigBytes])) return ProxyHeaderStatus.BadSignature;
        if (data.Length < V2FixedLength) return ProxyHeaderStatus.NeedMore;

        byte verCmd = data[12], famProto = data[13];
        if (verCmd >> 4 != 2) return ProxyHeaderStatus.UnsupportedVersion;
        int command = verCmd & 0x0F; // 0 LOCAL, 1 PROXY
        if (command > 1) return ProxyHeaderStatus.UnsupportedVersion;
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[14..]);
        if (length > MaxV2Length) return ProxyHeaderStatus.TooLong;
        if (data.Length < V2FixedLength + length) return ProxyHeaderStatus.NeedMore;
        var body = data.Slice(V2FixedLength, length);

        // LOCAL: the balancer speaks for itself (health checks); the address block, if any, means nothing.
        // AF_UNSPEC under PROXY: the spec says to use the connection's own endpoints as well.
        int family = famProto >> 4, transport = famProto & 0x0F;
        if (command == 0 || family == 0)
        {
            consumed = V2FixedLength + length;
            header = new ProxyHeader(2, null, null);
            return ProxyHeaderStatus.Ok;
        }
        if (transport != 1) return ProxyHeaderStatus.UnsupportedFamily; // only STREAM: NFS here is TCP only
        int addressBytes = family switch { 1 => 4, 2 => 16, _ => 0 };
        if (addressBytes == 0) return ProxyHeaderStatus.UnsupportedFamily; // AF_UNIX or an undefined family
        if (body.Length < 2 * addressBytes + 4) return ProxyHeaderStatus.Malformed;

        var src = new IPAddress(body[..addressBytes]);
        var dst = new IPAddress(body.Slice(addressBytes, addressBytes));
        int srcPort = BinaryPrimitives.ReadUInt16BigEndian(body[(2 * addressBytes)..]);
        int dstPort = BinaryPrimitives.ReadUInt16BigEndian(body[(2 * addressBytes + 2)..]);
        consumed = V2FixedLength + length;
        header = new ProxyHeader(2, new IPEndPoint(src, srcPort), new IPEndPoint(dst, dstPort));
        return ProxyHeaderStatus.Ok;
    }

    static ProxyHeaderStatus ParseV1(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        int prefixBytes = Math.Min(data.Length, V1Prefix.Length);
        if (!data[..prefixBytes].SequenceEqual(V1Prefix[..prefixBytes])) return ProxyHeaderStatus.BadSignature;

        var window = data[..Math.Min(data.Length, MaxV1Length)];
        int cr = window.IndexOf("\r\n"u8);
        if (cr < 0) return data.Length >= MaxV1Length ? ProxyHeaderStatus.TooLong : ProxyHeaderStatus.NeedMore;
        var line = window[..cr];
        foreach (byte b in line)
            if (b is < 0x20 or > 0x7E) return ProxyHeaderStatus.Malformed;

        string[] parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts.Length >= 2 && parts[1] == "UNKNOWN")
        {
            // "PROXY UNKNOWN" (anything may follow): the balancer could not tell; use the connection's endpoints.
            consumed = cr + 2;
            header = new ProxyHeader(1, null, null);
            return ProxyHeaderStatus.Ok;
        }
        if (parts.Length != 6) return ProxyHeaderStatus.Malformed;
        var family = parts[1] switch { "TCP4" => AddressFamily.InterNetwork, "TCP6" => AddressFamily.InterNetworkV6, _ => AddressFamily.Unknown };
        if (family == AddressFamily.Unknown) return ProxyHeaderStatus.UnsupportedFamily;
        if (!TryAddress(parts[2], family, out var src) || !TryAddress(parts[3], family, out var dst)
            || !TryPort(parts[4], out int srcPort) || !TryPort(parts[5], out int dstPort))
            return ProxyHeaderStatus.Malformed;
        consumed = cr + 2;
        header = new ProxyHeader(1, new IPEndPoint(src, srcPort), new IPEndPoint(dst, dstPort));
        return ProxyHeaderStatus.Ok;
    }

    static bool TryAddress(string text, AddressFamily family, out IPAddress address)
    {
        address = IPAddress.None;
        // IPAddress.TryParse also takes "1" or "0x7f.1" as IPv4; the spec wants dotted quads only.
        if (family == AddressFamily.InterNetwork && (text.Count(c => c == '.') != 3 || !text.All(c => c == '.' || char.IsAsciiDigit(c))))
            return false;
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != family) return false;
        address = parsed;
        return true;
    }

    static bool TryPort(string text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && int.TryParse(text, out port) && port <= 65535;
    }
}
