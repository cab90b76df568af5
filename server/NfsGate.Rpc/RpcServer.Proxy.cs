using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using NfsGate.Rpc.Proxy;

namespace NfsGate.Rpc;

/// <summary>
/// PROXY protocol in front of the session: behind a TCP load balancer every connection comes from the balancer, so
/// client rules, QoS, metrics and the duplicate-request cache would all see one address. A peer inside
/// <see cref="RpcServerOptions.TrustedProxies"/> must open with a PROXY header, whose source then stands for the
/// client everywhere downstream. Any other peer is never parsed for one: a client cannot claim someone else's address.
/// </summary>
public sealed partial class RpcServer
{
    /// <summary>The client the session should see; null when a trusted balancer sent no valid header (the caller closes).</summary>
    private async Task<IPEndPoint?> ProxiedClientAsync(PipeReader input, IPEndPoint peer, long id)
    {
        if (!IsTrustedProxy(_options.TrustedProxies, peer.Address)) return peer;
        var (status, header) = await ProxyHeaderReader.ReadAsync(input, _options.ProxyHeaderTimeout, _stop.Token).ConfigureAwait(false);
        if (status != ProxyHeaderStatus.Ok)
        {
            if (!_stop.IsCancellationRequested) LogProxyHeaderRejected(_log, id, peer, status);
            await input.CompleteAsync().ConfigureAwait(false);
            return null;
        }
        // LOCAL (health checks) and UNKNOWN/AF_UNSPEC: the balancer speaks for itself.
        var client = header.Source ?? peer;
        LogProxied(_log, id, peer, client);
        return client;
    }

    /// <summary>True when <paramref name="address"/> (IPv4-mapped IPv6 taken as IPv4) lies in one of <paramref name="trusted"/>.</summary>
    public static bool IsTrustedProxy(IReadOnlyList<IPNetwork> trusted, IPAddress address)
    {
        if (trusted.Count == 0) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var net in trusted)
            if (net.Contains(address)) return true;
        return false;
    }

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "RPC connection {Id} from trusted balancer {Peer} closed: no valid PROXY header ({Status})")]
    private static partial void LogProxyHeaderRejected(ILogger logger, long id, IPEndPoint peer, ProxyHeaderStatus status);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "RPC connection {Id} from balancer {Peer} is client {Client} (PROXY header)")]
    private static partial void LogProxied(ILogger logger, long id, IPEndPoint peer, IPEndPoint client);
}
