using System.Net;
using Microsoft.Extensions.Logging;

namespace NfsGate.Server.Logging;

/// <summary>
/// One warning per NFS call slower than the configured threshold (log.slowOperation), under the category
/// "NfsGate.SlowOperations" so it can be filtered or routed on its own (JuiceFS's access log, ganesha's
/// "slow request" lines). Bounded: under overload every call is slow, and a log line per call would make it worse,
/// so at most <see cref="LinesPerSecond"/> lines are written per second and the rest are counted into the next one.
/// </summary>
/// <param name="nowSeconds">The clock the per-second budget is counted on (tests pass their own).</param>
internal sealed partial class SlowOperationLog(ILogger logger, TimeSpan threshold, Func<long>? nowSeconds = null)
{
    readonly Func<long> _now = nowSeconds ?? (static () => Environment.TickCount64 / 1000);

    public const string Category = "NfsGate.SlowOperations";
    public const int LinesPerSecond = 20;

    long _second;
    int _lines;
    long _suppressed;

    public TimeSpan Threshold => threshold;

    public bool IsSlow(TimeSpan elapsed) => elapsed >= threshold;

    public void Write(string proc, string export, IPAddress client, uint xid, string status, TimeSpan elapsed)
    {
        long second = _now();
        if (Interlocked.Exchange(ref _second, second) != second) Volatile.Write(ref _lines, 0);
        if (Interlocked.Increment(ref _lines) > LinesPerSecond)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }
        long suppressed = Interlocked.Exchange(ref _suppressed, 0);
        LogSlow(logger, proc, export, client.ToString(), elapsed.TotalMilliseconds, status, xid.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), threshold.TotalMilliseconds, suppressed);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning,
        Message = "slow NFS3 {Proc} on export {Export} from {Client}: {ElapsedMs:F1} ms, {Status} (xid {Xid}; threshold {ThresholdMs} ms; {Suppressed} slow calls not logged since the last line)")]
    // Xid as 8 hex digits and Client as text: the same form as the request context other events carry.
    private static partial void LogSlow(ILogger logger, string proc, string export, string client, double elapsedMs, string status, string xid, double thresholdMs, long suppressed);
}
