using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NfsGate.Server.Config;

namespace NfsGate.Server.Cli;

/// <summary>
/// The admin-API client shared by <c>nfsgate export</c>, <c>qos</c> and <c>warmup</c>: where the running server
/// listens, and one JSON request/response exchange. Errors come back as a JSON body with an "error" key, the form
/// the server itself uses, so every command reports them the same way.
/// </summary>
public sealed class AdminClient : IDisposable
{
    /// <summary>A server that does not accept the connection by then is not running.</summary>
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    readonly SocketsHttpHandler _handler;

    public HttpClient Http { get; }

    /// <summary>http://host:port of the admin API, without a path.</summary>
    public string Root { get; }

    AdminClient(string root, TimeSpan timeout)
    {
        Root = root;
        _handler = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout, UseProxy = false };
        Http = new HttpClient(_handler) { Timeout = timeout };
    }

    /// <summary>
    /// A client for the server <paramref name="config"/> describes, or null (with the reason on stderr) when its HTTP
    /// listener is off. A server listening on every address is reached on loopback: the admin API is for local use.
    /// </summary>
    public static AdminClient? For(GatewayConfig config, string command, TextWriter stderr, TimeSpan timeout)
    {
        if (config.Http is not { } endpoint)
        {
            stderr.WriteLine($"nfsgate {command}: the HTTP listener is off in the configuration; give --http HOST:PORT");
            return null;
        }
        var address = endpoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : endpoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : endpoint.Address;
        return new AdminClient($"http://{new IPEndPoint(address, endpoint.Port)}", timeout);
    }

    /// <summary>A JSON body for <paramref name="json"/>, or null for none.</summary>
    public static StringContent? Json(string? json)
    {
        if (json is null) return null;
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>One request; the body is the server's JSON object, or {"error": ...} when it sent something else.</summary>
    public async Task<(bool Ok, JsonObject Body)> SendAsync(HttpMethod method, string url, string? json, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(method, url) { Content = Json(json) };
        using var response = await Http.SendAsync(message, ct).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return (response.IsSuccessStatusCode, Parse(text, response));
    }

    /// <summary>The "error" text of a failed reply's body.</summary>
    public static string ErrorOf(JsonObject body) => body["error"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "request failed";

    internal static JsonObject Parse(string text, HttpResponseMessage response)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? new JsonObject { ["error"] = text };
        }
        catch (JsonException)
        {
            return new JsonObject { ["error"] = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {text}" };
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        _handler.Dispose();
    }
}
