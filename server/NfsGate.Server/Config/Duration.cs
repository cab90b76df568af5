using System.Globalization;
using System.Text;

namespace NfsGate.Server.Config;

/// <summary>
/// Durations as people write them, Go style: "30s", "500ms", "2m", "1h", "1.5s", "1m30s". A unit is required
/// ("30" alone is refused: seconds or milliseconds would be a guess).
/// </summary>
public static class Duration
{
    // Longest suffix first, so "ms" is not read as "m" followed by garbage.
    static readonly (string Unit, double Milliseconds)[] Units =
    [
        ("ms", 1), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
    ];

    /// <summary>Cap: far beyond any timeout that makes sense, and well inside <see cref="TimeSpan"/>'s range.</summary>
    static readonly TimeSpan Max = TimeSpan.FromDays(1);

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        string s = text.Trim();
        if (s.Length == 0 || s.Length > 64)
            return false;
        double total = 0;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
                i++;
            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
                return false;
            var unit = Units.FirstOrDefault(u => string.CompareOrdinal(s, i, u.Unit, 0, u.Unit.Length) == 0);
            if (unit.Unit is null)
                return false;
            i += unit.Unit.Length;
            total += number * unit.Milliseconds;
        }
        if (total > Max.TotalMilliseconds)
            return false;
        value = TimeSpan.FromMilliseconds(total);
        return true;
    }

    /// <summary>The form <see cref="TryParse"/> reads back: 30 s → "30s", 90 s → "1m30s", 0.5 s → "500ms".</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
            return "0s";
        long ms = (long)value.TotalMilliseconds;
        var sb = new StringBuilder();
        if (ms % 1000 != 0)
            return ms.ToString(CultureInfo.InvariantCulture) + "ms";
        long seconds = ms / 1000;
        if (seconds >= 3600) { sb.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}h"); seconds %= 3600; }
        if (seconds >= 60) { sb.Append(CultureInfo.InvariantCulture, $"{seconds / 60}m"); seconds %= 60; }
        if (seconds > 0) sb.Append(CultureInfo.InvariantCulture, $"{seconds}s");
        return sb.ToString();
    }
}
