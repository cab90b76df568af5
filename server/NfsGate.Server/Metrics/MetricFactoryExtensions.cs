using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>Label names as trailing arguments (the factory interface wants an array).</summary>
internal static class MetricFactoryExtensions
{
    public static Counter NewCounter(this IMetricFactory f, string name, string help, params string[] labels) => f.CreateCounter(name, help, labels);

    public static Gauge NewGauge(this IMetricFactory f, string name, string help, params string[] labels) => f.CreateGauge(name, help, labels);
}
