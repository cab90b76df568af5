using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace NfsGate.Server.Tests;

/// <summary>A scrape of GET /metrics, parsed into samples ("name{a="x",b="y"}" → value) for assertions.</summary>
internal sealed partial class MetricsExposition
{
    readonly Dictionary<string, double> _samples = new(StringComparer.Ordinal);

    public string Text { get; }

    MetricsExposition(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            _samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
    }

    public static async Task<MetricsExposition> ScrapeAsync(IPEndPoint http)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://{http}/metrics");
        response.EnsureSuccessStatusCode();
        return new MetricsExposition(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sample with exactly these labels (in exposition order), or null.</summary>
    public double? Get(string name, params (string Label, string Value)[] labels)
    {
        string key = labels.Length == 0 ? name : $"{name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}";
        return _samples.TryGetValue(key, out var v) ? v : null;
    }

    /// <summary>Sum over every sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) =>
        _samples.Where(s => SampleName(s.Key) == name && labels.All(l => s.Key.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Sum(s => s.Value);

    public IEnumerable<string> LabelValues(string name, string label) =>
        _samples.Keys.Where(k => SampleName(k) == name).Select(k => LabelRegex().Match(k)).Where(m => m.Success)
            .SelectMany(m => LabelPairRegex().Matches(m.Value).Where(p => p.Groups[1].Value == label).Select(p => p.Groups[2].Value)).Distinct();

    static string SampleName(string key) => key.IndexOf('{') is var i and >= 0 ? key[..i] : key;

    [GeneratedRegex(@"\{.*\}")]
    private static partial Regex LabelRegex();

    [GeneratedRegex("([a-z_]+)=\"([^\"]*)\"")]
    private static partial Regex LabelPairRegex();
}
