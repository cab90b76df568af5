using System.Net;

namespace NfsGate.LoadGen;

/// <summary>"--name value" pairs after the command word; every option is looked up by name with a default.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> argv)
    {
        string? key = null;
        foreach (var a in argv)
        {
            if (a.StartsWith("--", StringComparison.Ordinal)) { if (key is not null) _values[key] = "true"; key = a[2..]; }
            else if (key is not null) { _values[key] = a; key = null; }
            else throw new ArgumentException($"unexpected argument '{a}'");
        }
        if (key is not null) _values[key] = "true";
    }

    public string Str(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

    public long Long(string name, long fallback) => _values.TryGetValue(name, out var v) ? ParseSize(v) : fallback;

    public double Double(string name, double fallback) => _values.TryGetValue(name, out var v) ? double.Parse(v) : fallback;

    public bool Flag(string name) => _values.ContainsKey(name);

    public static IPEndPoint EndPoint(string hostPort)
    {
        int colon = hostPort.LastIndexOf(':');
        return new IPEndPoint(IPAddress.Parse(hostPort[..colon]), int.Parse(hostPort[(colon + 1)..]));
    }

    /// <summary>Plain bytes or a K/M/G (binary) suffix: "1M" = 1 MiB.</summary>
    public static long ParseSize(string s)
    {
        long mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        return long.Parse(mult == 1 ? s : s[..^1]) * mult;
    }
}
