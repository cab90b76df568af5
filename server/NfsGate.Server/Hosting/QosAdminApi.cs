using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// QoS on the admin HTTP listener (same trust model as <see cref="AdminApi"/>: loopback by default, no authentication).
/// <list type="bullet">
/// <item><c>GET /admin/qos</c>: every export's policy, where it comes from and its counters.</item>
/// <item><c>GET /admin/qos/NAME</c>: one export.</item>
/// <item><c>PUT /admin/qos/NAME</c> with an <c>exports[].qos</c> object: replaces the export's policy at once and saves
/// it (a runtime override, kept across restarts). <c>{}</c> removes every cap.</item>
/// <item><c>DELETE /admin/qos/NAME</c>: drops the runtime override; the config's policy applies again.</item>
/// </list>
/// Errors are 400 (bad body, naming the key), 404 (no such export), as <c>{"error": "..."}</c>.
/// </summary>
public static class QosAdminApi
{
    /// <summary>A policy with the maximum 256 client rules is ~40 KiB of JSON.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    public static void Map(IEndpointRouteBuilder routes, QosAdmin qos)
    {
        routes.MapGet("/admin/qos", () => Results.Json(AllJson(qos)));
        routes.MapGet("/admin/qos/{export}", (string export) =>
            qos.Get(export) is { } view ? Results.Json(ViewJson(view)) : NotFound(export));
        routes.MapPut("/admin/qos/{export}", (string export, HttpRequest request) => PutAsync(qos, export, request));
        routes.MapDelete("/admin/qos/{export}", (string export) =>
            qos.Reset(export) is { } view ? Results.Json(ViewJson(view)) : NotFound(export));
    }

    static async Task<IResult> PutAsync(QosAdmin qos, string export, HttpRequest request)
    {
        var body = await ReadBodyAsync(request, request.HttpContext.RequestAborted);
        if (body is null) return Error(400, $"request body larger than {MaxBodyBytes} bytes");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            return Error(400, $"the body is not valid JSON: {e.Message}");
        }
        if (node is null) return Error(400, "the body must be a qos object, e.g. {\"read\": \"200MiB/s\"}");
        Protocol.Qos.QosPolicy policy;
        try
        {
            policy = QosConfigReader.Parse(node, "qos");
        }
        catch (ConfigException e)
        {
            return Error(400, $"{e.KeyPath}: {e.Problem}");
        }
        return qos.Set(export, policy) is { } view ? Results.Json(ViewJson(view)) : NotFound(export);
    }

    static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + n > MaxBodyBytes) return null;
            body.Write(buffer, 0, n);
        }
        return body.ToArray();
    }

    static IResult NotFound(string export) => Error(404, $"no export named \"{export}\"");

    static IResult Error(int status, string message) =>
        Results.Json(new JsonObject { ["error"] = message }, statusCode: status);

    internal static JsonObject AllJson(QosAdmin qos)
    {
        var list = new JsonArray();
        foreach (var view in qos.All()) list.Add(ViewJson(view));
        return new JsonObject { ["share"] = qos.Engine.Share, ["exports"] = list };
    }

    internal static JsonObject ViewJson(QosView view) => new()
    {
        ["export"] = view.Export,
        ["source"] = view.Source.ToString().ToLowerInvariant(),
        ["qos"] = QosConfigReader.ToJson(view.Policy),
        ["stats"] = new JsonObject
        {
            ["admitted"] = view.Stats.Admitted,
            ["delayed"] = view.Stats.Delayed,
            ["rejected"] = view.Stats.Rejected,
            ["delayedSeconds"] = Math.Round(view.Stats.DelayedSeconds, 3),
            ["waiting"] = view.Stats.Waiting,
        },
    };
}
