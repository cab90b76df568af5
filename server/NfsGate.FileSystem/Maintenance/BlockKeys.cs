using System.Globalization;

namespace NfsGate.FileSystem.Maintenance;

/// <summary>Reads a block object key (<see cref="ObjectKeys.BlockKey"/>) back into slice id, block index and length.</summary>
public static class BlockKeys
{
    public const string Prefix = "chunks/";

    /// <summary>
    /// True only for keys exactly as <see cref="ObjectKeys.BlockKey"/> writes them (directory levels, no sign, no
    /// leading zeros): anything else under chunks/ is not ours to judge, so gc reports it and never deletes it.
    /// </summary>
    public static bool TryParse(string key, out ulong sliceId, out int blockIndex, out int length)
    {
        sliceId = 0;
        blockIndex = length = 0;
        int slash = key.LastIndexOf('/');
        if (slash < 0 || !key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var parts = key.AsSpan(slash + 1);
        int a = parts.IndexOf('_');
        if (a < 0) return false;
        int b = parts[(a + 1)..].IndexOf('_');
        if (b < 0) return false;
        b += a + 1;
        var inv = CultureInfo.InvariantCulture;
        if (!ulong.TryParse(parts[..a], NumberStyles.None, inv, out sliceId)
            || !int.TryParse(parts[(a + 1)..b], NumberStyles.None, inv, out blockIndex)
            || !int.TryParse(parts[(b + 1)..], NumberStyles.None, inv, out length))
            return false;
        return key == ObjectKeys.BlockKey(sliceId, blockIndex, length);
    }
}
