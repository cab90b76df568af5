using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// <c>nfsgate warmup</c>: a client of the running server's admin API (<see cref="AdminApi"/>). Shows the streamed
/// progress on stderr (one line rewritten in place on a terminal, plain lines otherwise) and the summary on stdout.
/// </summary>
public static class WarmupCommand
{
    /// <summary>Cap on one progress line from the server: they are a few hundred bytes.</summary>
    const int MaxLineChars = 64 * 1024;

    public static async Task<int> RunAsync(GatewayConfig config, Command command, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal,
        CancellationToken ct = default)
    {
        // A big tree takes long: no overall timeout, only the connect timeout.
        using var admin = AdminClient.For(config, "warmup", stderr, Timeout.InfiniteTimeSpan);
        if (admin is null) return Program.ExitUsage;
        var url = new Uri(admin.Root + "/admin/warmup");
        string body = RequestJson(command);

        try
        {
            using var content = AdminClient.Json(body);
            using var response = await admin.Http.PostAsync(url, content, ct).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            if (!response.IsSuccessStatusCode)
            {
                string text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
                await stderr.WriteLineAsync($"nfsgate warmup: {ErrorOf(text) ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}"}");
                return Program.ExitFailure;
            }
            JsonElement? last = null;
            bool live = false;
            while (await ReadLineAsync(reader, ct).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                using var doc = JsonDocument.Parse(line);
                var progress = doc.RootElement.Clone();
                last = progress;
                if (progress.TryGetProperty("done", out var d) && d.GetBoolean()) break;
                if (stderrIsTerminal)
                {
                    await stderr.WriteAsync($"\r{ProgressLine(progress)}\u001b[K");
                    live = true;
                }
                else
                {
                    await stderr.WriteLineAsync(ProgressLine(progress));
                }
            }
            if (live) await stderr.WriteLineAsync();
            if (last is not { } final || !final.TryGetProperty("done", out var doneEl) || !doneEl.GetBoolean())
            {
                await stderr.WriteLineAsync("nfsgate warmup: the server ended the stream before the warm-up finished");
                return Program.ExitFailure;
            }
            await stdout.WriteLineAsync(Summary(command.WarmupMode, final));
            if (final.TryGetProperty("error", out var fatal))
            {
                await stderr.WriteLineAsync($"nfsgate warmup: {fatal.GetString()}");
                return Program.ExitFailure;
            }
            if (Long(final, "errors") > 0)
            {
                await stderr.WriteLineAsync($"nfsgate warmup: {Long(final, "errors")} blocks failed, first: {Text(final, "firstError")}");
                return Program.ExitFailure;
            }
            return Program.ExitOk;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or InvalidOperationException)
        {
            await stderr.WriteLineAsync($"nfsgate warmup: cannot talk to the server at {url}: {e.Message}");
            return Program.ExitFailure;
        }
    }

    static string RequestJson(Command command)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("export", command.Export);
            w.WriteStartArray("paths");
            foreach (var p in command.Paths) w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteString("mode", command.WarmupMode.ToString().ToLowerInvariant());
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A line, or null at the end; a line longer than the cap is not a progress object.</summary>
    static async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var one = new char[1];
        while (true)
        {
            int n = await reader.ReadAsync(one, ct).ConfigureAwait(false);
            if (n == 0) return sb.Length == 0 ? null : sb.ToString();
            if (one[0] == '\n') return sb.ToString();
            if (sb.Length >= MaxLineChars) throw new InvalidOperationException($"progress line longer than {MaxLineChars} characters");
            sb.Append(one[0]);
        }
    }

    static string? ErrorOf(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string ProgressLine(JsonElement p) => string.Create(CultureInfo.InvariantCulture,
        $"{Text(p, "mode")}: {Long(p, "files")}/{Long(p, "filesTotal")} files, {ByteSize.Format(Long(p, "bytes"))}/{ByteSize.Format(Long(p, "bytesTotal"))}, " +
        $"{Long(p, "blocks")}/{Long(p, "blocksTotal")} blocks, {ByteSize.Format(Long(p, "bytesPerSecond"))}/s");

    internal static string Summary(WarmupMode mode, JsonElement p)
    {
        long files = Long(p, "filesTotal"), blockBytes = Long(p, "blockBytes");
        string head = string.Create(CultureInfo.InvariantCulture,
            $"{files} files, {ByteSize.Format(Long(p, "bytesTotal"))} ({Long(p, "blocksTotal")} blocks, {ByteSize.Format(blockBytes)}) in {Double(p, "seconds"):0.0} s");
        return mode switch
        {
            WarmupMode.Evict => string.Create(CultureInfo.InvariantCulture,
                $"evicted: {Long(p, "evictedBlocks")} blocks, {ByteSize.Format(Long(p, "evictedBytes"))}; {head}"),
            WarmupMode.Check => string.Create(CultureInfo.InvariantCulture,
                $"cached: {ByteSize.Format(Long(p, "cachedBytes"))} of {ByteSize.Format(blockBytes)} ({Percent(Long(p, "cachedBytes"), blockBytes)}%), " +
                $"{Long(p, "cachedFiles")} of {files} files fully cached; {head}"),
            _ => string.Create(CultureInfo.InvariantCulture,
                $"fetched: {Long(p, "fetchedBlocks")} blocks; cached now: {ByteSize.Format(Long(p, "cachedBytes"))} of {ByteSize.Format(blockBytes)} " +
                $"({Percent(Long(p, "cachedBytes"), blockBytes)}%), {Long(p, "cachedFiles")} of {files} files; {head}"),
        };
    }

    /// <summary>Nothing to cache counts as all of it cached.</summary>
    static string Percent(long part, long whole) =>
        (whole == 0 ? 100.0 : Math.Floor(part * 1000.0 / whole) / 10).ToString("0.#", CultureInfo.InvariantCulture);

    static long Long(JsonElement p, string name) => p.TryGetProperty(name, out var v) && v.TryGetInt64(out long x) ? x : 0;
    static double Double(JsonElement p, string name) => p.TryGetProperty(name, out var v) && v.TryGetDouble(out double x) ? x : 0;
    static string Text(JsonElement p, string name) => p.TryGetProperty(name, out var v) ? v.ToString() : "";
}
