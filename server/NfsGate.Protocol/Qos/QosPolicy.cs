using System.Net;

namespace NfsGate.Protocol.Qos;

/// <summary>
/// Caps for one scope (a whole export, or each client address matching a rule). A null cap means "no cap".
/// <see cref="Burst"/> is how many seconds of tokens a bucket holds when full: an idle client may send that much
/// at full speed before the rate applies. Null burst: the export's burst, or <see cref="QosPolicy.DefaultBurst"/>.
/// </summary>
public sealed record QosRates(long? ReadBytesPerSecond = null, long? WriteBytesPerSecond = null, long? OpsPerSecond = null, TimeSpan? Burst = null)
{
    public static readonly QosRates None = new();

    public bool IsEmpty => ReadBytesPerSecond is null && WriteBytesPerSecond is null && OpsPerSecond is null;
}

/// <summary>
/// Caps for each client address that matches <see cref="Match"/>: an IPv4/IPv6 CIDR, a single address or "*".
/// Each address gets its own buckets (a rule for 10.1.2.0/24 caps every host in it, not the network as a whole),
/// within the export's cap.
/// </summary>
public sealed record QosClientRule(string Match, QosRates Rates)
{
    public static bool IsValidMatch(string match) =>
        match == "*" || IPNetwork.TryParse(match, out _) || IPAddress.TryParse(match, out _);

    public bool Matches(IPAddress client)
    {
        if (Match == "*") return true;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        if (IPNetwork.TryParse(Match, out var net)) return net.Contains(client);
        return IPAddress.TryParse(Match, out var ip) && ip.Equals(client);
    }
}

/// <summary>
/// One export's QoS: its own caps, the per-client rules (first match wins; no match = only the export cap), and the
/// longest a call may be held back before it is refused with NFS3ERR_JUKEBOX.
/// </summary>
public sealed record QosPolicy
{
    /// <summary>One second of tokens: a short burst absorbs a client's read-ahead window without letting it run far over the cap.</summary>
    public static readonly TimeSpan DefaultBurst = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Far below the Linux client's major timeout (timeo=600 deciseconds on TCP), so a held call never looks lost;
    /// a call that would wait longer is better told to back off (JUKEBOX: the client retries after 5 s).
    /// </summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(2);
    public const int MaxClientRules = 256;

    public static readonly QosPolicy None = new();

    public QosRates Export { get; init; } = QosRates.None;
    public IReadOnlyList<QosClientRule> Clients { get; init; } = [];
    /// <summary>Null: <see cref="DefaultMaxDelay"/>.</summary>
    public TimeSpan? MaxDelay { get; init; }

    public bool IsEmpty => Export.IsEmpty && Clients.All(c => c.Rates.IsEmpty);
    public TimeSpan EffectiveMaxDelay => MaxDelay ?? DefaultMaxDelay;
    public TimeSpan BurstOf(QosRates r) => r.Burst ?? Export.Burst ?? DefaultBurst;

    /// <summary>The first rule matching <paramref name="client"/>, or null.</summary>
    public QosClientRule? RuleFor(IPAddress client)
    {
        foreach (var rule in Clients)
            if (rule.Matches(client)) return rule;
        return null;
    }
}

/// <summary>What a call spends besides one operation: bytes of the export's read or write budget.</summary>
public enum QosKind { Other, Read, Write }
