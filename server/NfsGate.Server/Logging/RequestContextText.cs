using Serilog.Core;
using Serilog.Events;

namespace NfsGate.Server.Logging;

/// <summary>
/// For the text format: a " [xid … client … export …]" suffix when the event was written while serving an NFS
/// call (see <see cref="RequestLogContext"/>), empty otherwise. Only the text format uses it; the JSON format carries
/// Xid, Client and Export as properties of their own.
/// </summary>
internal sealed class RequestContextText : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        string text = logEvent.Properties.TryGetValue("Xid", out var xid)
            && logEvent.Properties.TryGetValue("Client", out var client)
            && logEvent.Properties.TryGetValue("Export", out var export)
            ? $" [xid {Plain(xid)} client {Plain(client)} export {Plain(export)}]"
            : "";
        logEvent.AddPropertyIfAbsent(new LogEventProperty("RequestContext", new ScalarValue(text)));
    }

    static string? Plain(LogEventPropertyValue v) => v is ScalarValue s ? s.Value?.ToString() : v.ToString();
}
