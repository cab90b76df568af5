using System.Text.Json;
using System.Text.Json.Serialization;

namespace NfsGate.Server.Hosting;

/// <summary>
/// One gateway's heartbeat row in the metadata engine (key <c>Keys.Node(id)</c>): a version byte, then this record as
/// JSON, so a field added later is ignored by older nodes instead of breaking them. Times are Unix milliseconds of
/// the writing node's clock: liveness compares them with the reader's clock, so the nodes' clocks must agree to well
/// within <see cref="Membership.LiveWindow"/> (NTP does; a gateway without time sync shows up dead or alive too long).
/// </summary>
public sealed record MembershipRecord(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("nfs")] string NfsAddress,
    [property: JsonPropertyName("http")] string? HttpAddress,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("startedMs")] long StartedMs,
    [property: JsonPropertyName("lastSeenMs")] long LastSeenMs)
{
    const byte FormatVersion = 1;
    /// <summary>A record is ~200 bytes; anything far bigger in the engine is not ours.</summary>
    const int MaxEncodedBytes = 64 * 1024;

    public byte[] Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(this);
        var v = new byte[1 + json.Length];
        v[0] = FormatVersion;
        json.CopyTo(v, 1);
        return v;
    }

    /// <summary>Null for a row this version cannot read (newer format, damaged): status lists it as unreadable, not a crash.</summary>
    public static MembershipRecord? Decode(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2 || value.Length > MaxEncodedBytes || value[0] != FormatVersion) return null;
        try
        {
            return JsonSerializer.Deserialize<MembershipRecord>(value[1..]);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public bool IsLive(long nowMs) => nowMs - LastSeenMs <= (long)Membership.LiveWindow.TotalMilliseconds;

}
