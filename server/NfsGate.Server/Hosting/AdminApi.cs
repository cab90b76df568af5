using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace NfsGate.Server.Hosting;

/// <summary>
/// Admin endpoints on the operator's HTTP listener. No authentication: the listener binds 127.0.0.1 by default, so only
/// local users reach it; binding it elsewhere exposes these too (see README.md).
/// <c>POST /admin/warmup</c> {"export":"default","paths":["/data"],"mode":"fetch|check|evict"} answers
/// newline-delimited JSON progress objects (one about every half second, then one with "done": true), or a 4xx
/// {"error": "..."} for a bad request.
/// </summary>
public static class AdminApi
{
    /// <summary>A request is a few paths; anything larger is not one.</summary>
    public const int MaxBodyBytes = 256 * 1024;
    static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    public static void Map(IEndpointRouteBuilder routes, Warmup warmup)
    {
        routes.MapPost("/admin/warmup", (HttpContext http) => WarmupAsync(http, warmup));
    }

    static async Task WarmupAsync(HttpContext http, Warmup warmup)
    {
        var ct = http.RequestAborted;
        var (request, problem) = await ReadRequestAsync(http.Request, ct);
        if (request is null)
        {
            await WriteErrorAsync(http.Response, 400, problem!, ct);
            return;
        }
        if (warmup.Prepare(request, out var plan) is { } refusal)
        {
            await WriteErrorAsync(http.Response, refusal.HttpStatus, refusal.Error, ct);
            return;
        }

        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/x-ndjson";
        var progress = new WarmupProgress(request.Mode);
        // A client that goes away cancels the run: nobody would see its result. On the thread pool, because the tree
        // walk is synchronous metadata work and progress must flow while it runs.
        var run = Task.Run(() => warmup.RunAsync(plan!, progress, ct), ct);
        while (await Task.WhenAny(run, Task.Delay(ProgressInterval, ct)) != run)
            await WriteLineAsync(http.Response, progress.ToJsonLine(done: false), ct);
        string? fatal = null;
        try
        {
            await run;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            fatal = e.Message; // the status line is sent already; the last object carries the failure
        }
        await WriteLineAsync(http.Response, progress.ToJsonLine(done: true, fatal), ct);
    }

    /// <summary>The parsed request, or null and why not.</summary>
    static async Task<(WarmupRequest?, string?)> ReadRequestAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return (null, $"request body larger than {MaxBodyBytes} bytes");
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + n > MaxBodyBytes) return (null, $"request body larger than {MaxBodyBytes} bytes");
            body.Write(buffer, 0, n);
        }
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "the body must be a JSON object");
            foreach (var p in root.EnumerateObject())
                if (p.Name is not ("export" or "paths" or "mode")) return (null, $"unknown key \"{p.Name}\"");
            if (!root.TryGetProperty("export", out var exportEl) || exportEl.ValueKind != JsonValueKind.String || exportEl.GetString() is not { Length: > 0 } export)
                return (null, "\"export\" (a non-empty string) is required");
            var paths = new List<string>();
            if (root.TryGetProperty("paths", out var pathsEl))
            {
                if (pathsEl.ValueKind != JsonValueKind.Array) return (null, "\"paths\" must be an array of strings");
                foreach (var p in pathsEl.EnumerateArray())
                {
                    if (p.ValueKind != JsonValueKind.String) return (null, "\"paths\" must be an array of strings");
                    paths.Add(p.GetString()!);
                }
            }
            else
            {
                paths.Add("/");
            }
            var mode = WarmupMode.Fetch;
            if (root.TryGetProperty("mode", out var modeEl))
            {
                mode = (modeEl.ValueKind == JsonValueKind.String ? modeEl.GetString() : null) switch
                {
                    "fetch" => WarmupMode.Fetch,
                    "check" => WarmupMode.Check,
                    "evict" => WarmupMode.Evict,
                    _ => (WarmupMode)(-1),
                };
                if (mode < 0) return (null, "\"mode\" must be \"fetch\", \"check\" or \"evict\"");
            }
            return (new WarmupRequest(export, paths, mode), null);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not valid JSON: {e.Message}");
        }
    }

    static async Task WriteErrorAsync(HttpResponse response, int status, string error, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteEndObject();
        }
        await WriteLineAsync(response, buffer.ToArray(), ct);
    }

    static async Task WriteLineAsync(HttpResponse response, byte[] json, CancellationToken ct)
    {
        await response.Body.WriteAsync(json, ct);
        await response.Body.WriteAsync("\n"u8.ToArray(), ct);
        await response.Body.FlushAsync(ct);
    }
}
