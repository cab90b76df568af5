using Microsoft.Extensions.Logging;

namespace NfsGate.FileSystem.Writeback;

/// <summary>What a graceful shutdown in writeback mode did with the staged records (its own class: Log.cs belongs to everyone).</summary>
internal static partial class DrainLog
{
    [LoggerMessage(EventId = 3031, Level = LogLevel.Information, Message = "shutdown: uploading {Records} staged writeback records ({Bytes} bytes), waiting at most {Seconds:0.#} s")]
    public static partial void Draining(ILogger logger, long records, long bytes, double seconds);

    [LoggerMessage(EventId = 3032, Level = LogLevel.Information, Message = "shutdown: every staged writeback record is uploaded ({Seconds:0.###} s)")]
    public static partial void Drained(ILogger logger, double seconds);

    [LoggerMessage(EventId = 3033, Level = LogLevel.Warning, Message = "shutdown: {Records} staged writeback records ({Bytes} bytes) not uploaded within {Seconds:0.#} s; they stay in {Dir} and are replayed at the next start")]
    public static partial void DrainTimedOut(ILogger logger, long records, long bytes, double seconds, string dir);
}
