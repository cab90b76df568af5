using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace NfsGate.Server.Logging;

/// <summary>
/// GET /admin/log-level answers {"level":"information"}; PUT /admin/log-level with {"level":"debug"} changes the
/// minimum level of every log sink at once, effective for the next event. Not persisted: a restart goes back to
/// log.level. Answers 409 when the gateway was given a logger factory nfsgate did not build (embedded use), since
/// there is then no level of ours to change.
/// </summary>
public static class LogLevelApi
{
    const int MaxBodyBytes = 4096;

    public static void Map(IEndpointRouteBuilder routes, ILoggerFactory loggerFactory)
    {
        var logging = loggerFactory as GatewayLogging;
        var log = loggerFactory.CreateLogger("NfsGate.Server");
        routes.MapGet("/admin/log-level", () => logging is null ? NotOurs() : Results.Json(new { level = Name(logging) }));
        routes.MapPut("/admin/log-level", async (HttpContext http) =>
        {
            if (logging is null) return NotOurs();
            string? text;
            try
            {
                var body = await JsonDocument.ParseAsync(new LimitedStream(http.Request.Body, MaxBodyBytes), cancellationToken: http.RequestAborted);
                text = body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.String
                    ? l.GetString() : null;
            }
            catch (Exception e) when (e is JsonException or InvalidDataException)
            {
                return Results.Json(new { error = $"body: {e.Message}" }, statusCode: 400);
            }
            if (GatewayLogging.ParseLevel(text) is not { } level)
                return Results.Json(new { error = "expected {\"level\": \"verbose|debug|information|warning|error|fatal\"}" }, statusCode: 400);
            var before = Name(logging);
            logging.Level = level;
            // Written at Warning so the change is in the log whatever the new level is.
            log.LogWarning("log level changed from {Before} to {After} through the admin API", before, Name(logging));
            return Results.Json(new { level = Name(logging) });
        });
    }

    static string Name(GatewayLogging logging) => logging.Level.ToString().ToLowerInvariant();

    static IResult NotOurs() => Results.Json(new { error = "the log level is not managed by nfsgate in this process" }, statusCode: 409);

    /// <summary>Fails reads past the cap, so a huge body cannot be buffered by the JSON parser.</summary>
    sealed class LimitedStream(Stream inner, long max) : Stream
    {
        long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        int Count(int n)
        {
            _read += n;
            if (_read > max) throw new InvalidDataException($"longer than {max} bytes");
            return n;
        }
    }
}
