using System.Collections.Concurrent;
using System.Net;

namespace NfsGate.Server.Metrics;

/// <summary>
/// Keeps the client label's cardinality bounded: the first <see cref="Max"/> distinct client addresses get their own
/// label value, every later one is counted as "other". A gateway serves a compute cluster of a few hundred nodes at
/// most, and each label value costs a series per export; 64 covers a team's hosts while keeping a scrape small.
/// Thread-safe.
/// </summary>
internal sealed class ClientLabels(int max = ClientLabels.DefaultMax)
{
    public const int DefaultMax = 64;
    public const string Other = "other";

    readonly ConcurrentDictionary<IPAddress, string> _labels = new();
    int _count;

    public int Max => max;

    public string For(IPAddress address)
    {
        if (_labels.TryGetValue(address, out var label)) return label;
        if (Volatile.Read(ref _count) >= max) return Other;
        if (Interlocked.Increment(ref _count) > max)
        {
            Interlocked.Decrement(ref _count);
            return Other;
        }
        label = address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();
        // Two first calls for one address may race: one of them wins, the other gives its slot back.
        if (!_labels.TryAdd(address, label))
        {
            Interlocked.Decrement(ref _count);
            return _labels[address];
        }
        return label;
    }
}
