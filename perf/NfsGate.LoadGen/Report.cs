using System.Globalization;

namespace NfsGate.LoadGen;

/// <summary>One result line of JSON on stdout, so perf/bench.sh can collect it with jq.</summary>
internal static class Report
{
    public static void Emit(string metric, double value, string unit, params (string Key, object Value)[] extra)
    {
        var parts = new List<string>
        {
            $"\"metric\":\"{metric}\"",
            "\"value\":" + value.ToString("0.###", CultureInfo.InvariantCulture),
            $"\"unit\":\"{unit}\"",
        };
        foreach (var (k, v) in extra)
            parts.Add($"\"{k}\":" + (v is string s ? $"\"{s}\"" : Convert.ToString(v, CultureInfo.InvariantCulture)));
        Console.WriteLine("{" + string.Join(",", parts) + "}");
    }
}
