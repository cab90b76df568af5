using System.Globalization;
using System.Net;

namespace NfsGate.Server.Config;

/// <summary>"HOST:PORT" where HOST is an IPv4 literal, a bracketed IPv6 literal, "localhost" or "*" (all interfaces).</summary>
public static class Endpoint
{
    public static bool TryParse(string text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.Any, 0);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            return false;
        string host = text[..colon];
        string portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            return false;
        IPAddress? address;
        if (host == "*")
            address = IPAddress.Any;
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            address = IPAddress.Loopback;
        else if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (!IPAddress.TryParse(host[1..^1], out address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return false;
        }
        else if (!host.Contains(':') && IPAddress.TryParse(host, out address) && host.Count(c => c == '.') == 3)
        {
            // IPAddress.TryParse accepts "1" or "1.2" as IPv4 shorthand; requiring four parts keeps typos out.
        }
        else
            return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }

    public static string Format(IPEndPoint endpoint) =>
        endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]:{endpoint.Port}"
            : $"{endpoint.Address}:{endpoint.Port}";
}
