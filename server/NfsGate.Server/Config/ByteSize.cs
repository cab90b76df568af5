using System.Globalization;

namespace NfsGate.Server.Config;

/// <summary>Sizes as people write them: "512MiB", "10GiB", "1.5TiB", "4096" (bytes). Binary units only, so "10GB" is not ambiguous.</summary>
public static class ByteSize
{
    static readonly (string Suffix, long Factor)[] Units =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1),
    ];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string s = text.Trim();
        long factor = 1;
        foreach (var (suffix, f) in Units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                factor = f;
                s = s[..^suffix.Length].TrimEnd();
                break;
            }
        }
        if (s.Length == 0 || s[0] == '-' || s[0] == '+')
            return false;
        if (factor == 1)
            return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            return false;
        decimal total = number * factor;
        if (total > long.MaxValue || total != decimal.Truncate(total))
            return false;
        bytes = (long)total;
        return true;
    }

    /// <summary>The shortest exact form: 10737418240 → "10GiB", 1000 → "1000".</summary>
    public static string Format(long bytes)
    {
        foreach (var (suffix, factor) in Units)
        {
            if (factor > 1 && bytes != 0 && bytes % factor == 0)
                return (bytes / factor).ToString(CultureInfo.InvariantCulture) + suffix;
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
