using System.Net;
using Serilog.Core;
using Serilog.Events;
using Serilog.Context;

namespace NfsGate.Server.Logging;

/// <summary>
/// Makes the NFS request being served visible to every log event written while it runs, whichever layer writes it
/// (file system, data path, metadata): properties Xid (hex, as tcpdump and the client's rpcdebug print it), Client
/// and Export. One enricher pushed per call instead of three properties: one async-local write, one small object.
/// </summary>
internal sealed class RequestLogContext(uint xid, IPAddress client, string export) : ILogEventEnricher
{
    public static IDisposable Push(uint xid, IPAddress client, string export) => LogContext.Push(new RequestLogContext(xid, client, export));

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        logEvent.AddPropertyIfAbsent(new LogEventProperty("Xid", new ScalarValue(xid.ToString("x8", System.Globalization.CultureInfo.InvariantCulture))));
        logEvent.AddPropertyIfAbsent(new LogEventProperty("Client", new ScalarValue(client.ToString())));
        logEvent.AddPropertyIfAbsent(new LogEventProperty("Export", new ScalarValue(export)));
    }
}
