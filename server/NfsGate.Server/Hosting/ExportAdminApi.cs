using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using NfsGate.Metadata;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// Runtime changes to the exports, on the admin HTTP listener (same trust model as <see cref="AdminApi"/>: local only).
/// Bodies are the config file's own export objects, checked by the config walker.
/// <code>
///   GET    /admin/exports                          the exports, with usage
///   POST   /admin/exports                          {export}                add one
///   PUT    /admin/exports/{name}                   {export}                replace one (same name)
///   DELETE /admin/exports/{name}                                           unpublish (data stays)
///   PUT    /admin/exports/{name}/clients           [rules]                 replace its client rules ([] = nobody; null = open)
///   PUT    /admin/exports/{name}/quota             {"bytes":..,"inodes":..}
///   GET    /admin/exports/{name}/trash                                     removed files waiting
///   POST   /admin/exports/{name}/trash/{id}/restore                        put one back
/// </code>
/// Changes answer {"ok": true, "persisted": bool}; errors {"error": "..."} with 400/404/409/500.
/// </summary>
public static class ExportAdminApi
{
    /// <summary>An export with 256 rules is a few tens of KiB.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    public static void Map(IEndpointRouteBuilder routes, ExportAdmin admin)
    {
        routes.MapGet("/admin/exports", (HttpContext http) => ListAsync(http, admin));
        routes.MapPost("/admin/exports", (HttpContext http) => WithBody(http, body =>
            ParseExport(body, out var e, out var err) ? admin.Add(e!) : Invalid(err!)));
        routes.MapPut("/admin/exports/{name}", (HttpContext http, string name) => WithBody(http, body =>
        {
            if (body is JsonObject o && !o.ContainsKey("name")) o["name"] = name;
            return ParseExport(body, out var e, out var err) ? admin.Replace(name, e!) : Invalid(err!);
        }));
        routes.MapDelete("/admin/exports/{name}", (HttpContext http, string name) => RespondAsync(http, admin.Remove(name)));
        routes.MapPut("/admin/exports/{name}/clients", (HttpContext http, string name) => WithBody(http, body =>
            Patch(admin, name, "clients", body, (cur, parsed) => cur with { Clients = parsed.Clients })));
        routes.MapPut("/admin/exports/{name}/quota", (HttpContext http, string name) => WithBody(http, body =>
            Patch(admin, name, "quota", body, (cur, parsed) => cur with { Quota = parsed.Quota })));
        routes.MapGet("/admin/exports/{name}/trash", (HttpContext http, string name) => TrashAsync(http, admin, name));
        routes.MapPost("/admin/exports/{name}/trash/{id}/restore", (HttpContext http, string name, string id) => RestoreAsync(http, admin, name, id));
    }

    static ExportChange Invalid(string error) => new(400, error, false);

    static bool ParseExport(JsonNode? body, out ExportConfig? export, out string? error)
    {
        export = null;
        error = null;
        if (body is not JsonObject o)
        {
            error = "the body must be a JSON object (an export as in the config file)";
            return false;
        }
        try
        {
            export = ExportAdminJson.Parse(o);
            return true;
        }
        catch (ConfigException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// Sets one key of an export: validated through the JSON form (same checks as the file), then only that field is
    /// taken over, so fields this API does not know (another engineer's "qos") stay as they are. Null body = remove the key.
    /// </summary>
    static ExportChange Patch(ExportAdmin admin, string name, string key, JsonNode? value, Func<ExportConfig, ExportConfig, ExportConfig> take)
    {
        var cur = admin.Current.FirstOrDefault(e => e.Name == name);
        if (cur is null) return new ExportChange(404, $"no export \"{name}\"", false);
        var o = ExportAdminJson.ToJson(cur);
        if (value is null) o.Remove(key);
        else o[key] = value.DeepClone();
        if (!ParseExport(o, out var parsed, out var err)) return Invalid(err!);
        return admin.Update(name, c => take(c, parsed!));
    }

    static async Task WithBody(HttpContext http, Func<JsonNode?, ExportChange> apply)
    {
        var ct = http.RequestAborted;
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            await WriteAsync(http, 400, Error($"request body larger than {MaxBodyBytes} bytes"));
            return;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxBodyBytes)
            {
                await WriteAsync(http, 400, Error($"request body larger than {MaxBodyBytes} bytes"));
                return;
            }
            buffer.Write(chunk, 0, n);
        }
        JsonNode? body;
        try
        {
            body = buffer.Length == 0 ? null : JsonNode.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            await WriteAsync(http, 400, Error($"the body is not valid JSON: {e.Message}"));
            return;
        }
        await RespondAsync(http, apply(body));
    }

    static Task RespondAsync(HttpContext http, ExportChange change) =>
        change.Ok
            ? WriteAsync(http, change.Status, new JsonObject { ["ok"] = true, ["persisted"] = change.Persisted })
            : WriteAsync(http, change.Status, Error(change.Error!));

    static Task ListAsync(HttpContext http, ExportAdmin admin)
    {
        var list = new JsonArray();
        foreach (var e in admin.Current)
        {
            var o = ExportAdminJson.ToJson(e);
            uint id = admin.Metadata.GetOrCreateVolumeId(e.Name);
            var usage = admin.Metadata.OpenVolume(id).Usage();
            o["usage"] = new JsonObject { ["bytes"] = usage.UsedBytes, ["inodes"] = usage.Inodes };
            list.Add(o);
        }
        return WriteAsync(http, 200, new JsonObject { ["exports"] = list, ["configFile"] = admin.ConfigFile });
    }

    static Task TrashAsync(HttpContext http, ExportAdmin admin, string name)
    {
        if (admin.Current.All(e => e.Name != name)) return WriteAsync(http, 404, Error($"no export \"{name}\""));
        uint vol = admin.Metadata.GetOrCreateVolumeId(name);
        var list = new JsonArray();
        foreach (var t in VolumeMeta.ListTrash(admin.Metadata.Kv, vol))
        {
            list.Add(new JsonObject
            {
                ["id"] = t.Id,
                ["name"] = t.Name,
                ["dir"] = t.Dir,
                ["deleted"] = DateTimeOffset.FromUnixTimeMilliseconds(t.DeletedMs).ToString("O"),
                ["size"] = t.Size,
                ["type"] = t.Type.ToString().ToLowerInvariant(),
            });
        }
        return WriteAsync(http, 200, new JsonObject { ["trash"] = list });
    }

    static Task RestoreAsync(HttpContext http, ExportAdmin admin, string name, string idText)
    {
        if (admin.Current.All(e => e.Name != name)) return WriteAsync(http, 404, Error($"no export \"{name}\""));
        if (!ulong.TryParse(idText, out ulong id)) return WriteAsync(http, 400, Error("the trash id is a number (see GET .../trash)"));
        uint vol = admin.Metadata.GetOrCreateVolumeId(name);
        var st = VolumeMeta.RestoreTrash(admin.Metadata.Kv, vol, id, out var dir, out var restored);
        return st switch
        {
            FsStatus.Ok => WriteAsync(http, 200, new JsonObject { ["ok"] = true, ["dir"] = dir, ["name"] = restored }),
            FsStatus.NoEnt => WriteAsync(http, 404, Error($"no trash entry {id} in export \"{name}\"")),
            _ => WriteAsync(http, 409, Error($"cannot restore entry {id}: {st}")),
        };
    }

    static JsonObject Error(string message) => new() { ["error"] = message };

    static async Task WriteAsync(HttpContext http, int status, JsonObject body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString() + "\n", http.RequestAborted);
    }
}
