using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>
/// Runtime changes through the admin API, the CLI and a config reload, seen by NFS clients of a real in-process host;
/// source addresses 127.0.0.x select the rules.
/// </summary>
public sealed class ExportAdminTests : IAsyncLifetime
{
    static readonly IPAddress A2 = IPAddress.Parse("127.0.0.2");
    static readonly IPAddress A3 = IPAddress.Parse("127.0.0.3");

    readonly string _dir = Path.Combine(Path.GetTempPath(), $"nfsgate-exportadmin-{Guid.NewGuid():N}");
    string ConfigFile => Path.Combine(_dir, "nfsgate.json");
    GatewayHost _host = null!;
    readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(ConfigFile, $$"""
            // a comment, as operators write them
            {
              "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dir}}",
              "metadata": { "engine": "memory" }, "cache": { "enabled": false },
              "exports": [
                { "name": "main", "path": "/main", "clients": [ { "match": "127.0.0.0/8", "squash": "none" } ] },
                { "name": "keep", "path": "/keep", "qos": "kept as is" }
              ]
            }
            """);
        // "qos" stands for keys of the export that ExportAdmin does not own: Load() hides it from the walker (its
        // value here is not a real qos policy), and every rewrite of the file must keep it.
        _host = await GatewayHost.StartAsync(Load(), NullLoggerFactory.Instance, CancellationToken.None);
        _host.ExportAdmin.UseConfigFile(ConfigFile, Load);
    }

    GatewayConfig Load()
    {
        var root = JsonNode.Parse(File.ReadAllText(ConfigFile), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        foreach (var e in root["exports"]!.AsArray()) e!.AsObject().Remove("qos");
        return ConfigLoader.Parse(root.ToJsonString(), ConfigFile, new Dictionary<string, string>(), []);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    string Url(string path) => $"http://{_host.HttpEndpoint}{path}";

    async Task<(HttpStatusCode Status, JsonObject Body)> Send(HttpMethod method, string path, string? json = null)
    {
        using var msg = new HttpRequestMessage(method, Url(path));
        if (json is not null) msg.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var r = await _http.SendAsync(msg);
        return (r.StatusCode, JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject());
    }

    async Task<Nfs3Client> From(IPAddress local, uint uid = 0) =>
        new(await RawRpcClient.ConnectAsync(_host.NfsEndpoint!, local), RpcClientCredential.Sys(uid, uid));

    JsonObject FileExport(string name) =>
        JsonNode.Parse(File.ReadAllText(ConfigFile))!["exports"]!.AsArray().Select(x => x!.AsObject()).Single(x => (string?)x["name"] == name);

    [Fact]
    public async Task Api_add_change_remove_apply_at_once_and_are_written_to_the_config_file()
    {
        var add = await Send(HttpMethod.Post, "/admin/exports", """{ "name": "team", "path": "/team", "clients": [ { "match": "127.0.0.2", "squash": "none" } ] }""");
        Assert.Equal(HttpStatusCode.Created, add.Status);
        Assert.True((bool)add.Body["persisted"]!);

        await using var c2 = await From(A2);
        var root = await c2.MountHandleAsync("/team");
        Assert.Equal(NfsStat3.NFS3_OK, (await c2.CreateAsync(root, "f")).Status);
        await using var c3 = await From(A3);
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await c3.MountAsync("/team")).Status);

        // Swap the rule: the mounted client loses access at its next call, the other gains it, no restart.
        var put = await Send(HttpMethod.Put, "/admin/exports/team/clients", """[ { "match": "127.0.0.3", "access": "ro" } ]""");
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await c2.GetAttrAsync(root)).Status);
        var root3 = await c3.MountHandleAsync("/team");
        Assert.Equal(NfsStat3.NFS3_OK, (await c3.LookupAsync(root3, "f")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c3.CreateAsync(root3, "g")).Status);

        // The file holds the change, keeps the other exports' keys it does not own, and loads back the same.
        var saved = FileExport("team");
        Assert.Equal("127.0.0.3", (string?)saved["clients"]![0]!["match"]);
        Assert.Equal("kept as is", (string?)FileExport("keep")["qos"]);
        var reloaded = Load().Exports.Single(e => e.Name == "team");
        Assert.Equal(ExportAccess.ReadOnly, Assert.Single(reloaded.Clients!).Access);

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Delete, "/admin/exports/team")).Status);
        Assert.Equal(MountStat3.MNT3ERR_NOENT, (await c3.MountAsync("/team")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, (await c3.GetAttrAsync(root3)).Status);
        Assert.DoesNotContain(Load().Exports, e => e.Name == "team");

        // Adding it back brings its files back (the volume stays in metadata).
        Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Post, "/admin/exports", """{ "name": "team", "path": "/team" }""")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c3.LookupAsync(root3, "f")).Status);
    }

    [Fact]
    public async Task Api_refuses_bad_requests_with_the_reason()
    {
        var dup = await Send(HttpMethod.Post, "/admin/exports", """{ "name": "main", "path": "/other" }""");
        Assert.Equal(HttpStatusCode.Conflict, dup.Status);
        var samePath = await Send(HttpMethod.Post, "/admin/exports", """{ "name": "other", "path": "/main" }""");
        Assert.Equal(HttpStatusCode.Conflict, samePath.Status);
        var bad = await Send(HttpMethod.Post, "/admin/exports", """{ "name": "x", "path": "/x", "clients": [ { "match": "10.0.0.1/8" } ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("clients[0].match", (string?)bad.Body["error"]);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Put, "/admin/exports/nope/quota", """{ "bytes": 1 }""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Put, "/admin/exports/main", """{ "name": "renamed", "path": "/main" }""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Post, "/admin/exports", "{ not json")).Status);
        Assert.DoesNotContain(Load().Exports, e => e.Name is "x" or "other" or "renamed");
    }

    [Fact]
    public async Task Quota_set_through_the_api_limits_writes_and_shows_in_fsstat()
    {
        await using var c = await From(A2);
        var root = await c.MountHandleAsync("/main");
        var f = await c.CreateAsync(root, "q");
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/admin/exports/main/quota", """{ "bytes": 8192, "inodes": 100 }""")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(f.Handle!, 0, new byte[8192])).Status);
        Assert.Equal(NfsStat3.NFS3ERR_DQUOT, (await c.WriteAsync(f.Handle!, 8192, new byte[1])).Status);
        var st = await c.FsStatAsync(root);
        Assert.Equal((8192UL, 0UL, 100UL), (st.TBytes, st.FBytes, st.TFiles));
        var list = await Send(HttpMethod.Get, "/admin/exports");
        var main = list.Body["exports"]!.AsArray().Single(x => (string?)x!["name"] == "main")!;
        Assert.Equal(8192UL, (ulong)main["usage"]!["bytes"]!);
        // Lifted again: writes go on.
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/admin/exports/main/quota", "null")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(f.Handle!, 8192, new byte[1])).Status);
    }

    [Fact]
    public async Task Removed_files_wait_in_the_trash_and_an_admin_restores_them()
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/admin/exports/main", """
            { "path": "/main", "clients": [ { "match": "127.0.0.0/8", "squash": "none" } ], "trash": { "retention": "7d" } }
            """)).Status);
        await using var c = await From(A2);
        var root = await c.MountHandleAsync("/main");
        var d = await c.MkdirAsync(root, "d");
        var f = await c.CreateAsync(d.Handle!, "report.csv");
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(f.Handle!, 0, "a,b,c\n"u8.ToArray())).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.RemoveAsync(d.Handle!, "report.csv")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await c.LookupAsync(d.Handle!, "report.csv")).Status);

        var trash = (await Send(HttpMethod.Get, "/admin/exports/main/trash")).Body["trash"]!.AsArray();
        var entry = Assert.Single(trash)!;
        Assert.Equal("report.csv", (string?)entry["name"]);
        Assert.Equal(6UL, (ulong)entry["size"]!);
        var restored = await Send(HttpMethod.Post, $"/admin/exports/main/trash/{entry["id"]}/restore");
        Assert.Equal(HttpStatusCode.OK, restored.Status);
        var back = await c.LookupAsync(d.Handle!, "report.csv");
        Assert.Equal(NfsStat3.NFS3_OK, back.Status);
        Assert.Equal("a,b,c\n"u8.ToArray(), (await c.ReadAsync(back.Handle!, 0, 100)).Data);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, $"/admin/exports/main/trash/{entry["id"]}/restore")).Status);

        // Expired entries are purged (the purger's pass, run here with a clock a week ahead).
        Assert.Equal(NfsStat3.NFS3_OK, (await c.RemoveAsync(d.Handle!, "report.csv")).Status);
        Assert.Equal(0, _host.ExportAdmin.PurgeExpiredTrash(DateTimeOffset.UtcNow));
        Assert.Equal(1, _host.ExportAdmin.PurgeExpiredTrash(DateTimeOffset.UtcNow.AddDays(7.01)));
        Assert.Empty((await Send(HttpMethod.Get, "/admin/exports/main/trash")).Body["trash"]!.AsArray());
    }

    [Fact]
    public async Task Reload_applies_the_edited_file_and_a_broken_file_changes_nothing()
    {
        await using var c = await From(A2);
        var root = await c.MountHandleAsync("/main");
        string text = File.ReadAllText(ConfigFile);
        File.WriteAllText(ConfigFile, text.Replace("\"127.0.0.0/8\"", "\"127.0.0.3\""));
        Assert.True(_host.ExportAdmin.Reload());
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await c.GetAttrAsync(root)).Status);

        File.WriteAllText(ConfigFile, text.Replace("\"127.0.0.0/8\"", "\"not-an-address\""));
        Assert.False(_host.ExportAdmin.Reload());
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await c.GetAttrAsync(root)).Status); // still the last good rules

        File.WriteAllText(ConfigFile, text);
        Assert.True(_host.ExportAdmin.Reload());
        Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(root)).Status);
    }

    [Fact]
    public async Task Reloads_during_io_never_disturb_a_client_that_stays_allowed()
    {
        await using var c = await From(A2);
        var root = await c.MountHandleAsync("/main");
        var f = await c.CreateAsync(root, "stream");
        var expected = new List<byte>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var failures = new List<NfsStat3>();
            ulong off = 0;
            for (byte i = 0; !stop.IsCancellationRequested || off < 64 * 1024; i++)
            {
                var chunk = Enumerable.Repeat(i, 4096).ToArray();
                var w = await c.WriteAsync(f.Handle!, off, chunk);
                if (w.Status != NfsStat3.NFS3_OK) failures.Add(w.Status);
                else { expected.AddRange(chunk); off += 4096; }
                if (off >= 4 << 20) break;
            }
            return failures;
        });
        string text = File.ReadAllText(ConfigFile);
        for (int i = 0; i < 20; i++)
        {
            // Alternate between two rule sets that both allow 127.0.0.2, and change other exports meanwhile.
            File.WriteAllText(ConfigFile, text.Replace("\"127.0.0.0/8\"", i % 2 == 0 ? "\"127.0.0.2\"" : "\"127.0.0.0/8\""));
            Assert.True(_host.ExportAdmin.Reload());
            var q = await Send(HttpMethod.Put, "/admin/exports/keep/quota", $$"""{ "inodes": {{100 + i}} }""");
            Assert.Equal(HttpStatusCode.OK, q.Status);
        }
        stop.Cancel();
        Assert.Empty(await writer);
        // In READs of at most 1 MiB (the server's rtmax): the writer may have got well past that before the stop.
        var data = new List<byte>();
        while (data.Count < expected.Count)
        {
            var read = await c.ReadAsync(f.Handle!, (ulong)data.Count, (uint)Math.Min(1 << 20, expected.Count - data.Count));
            Assert.NotEmpty(read.Data);
            data.AddRange(read.Data);
        }
        Assert.Equal(expected.Count, data.Count);
        Assert.True(expected.SequenceEqual(data));
    }

    [Fact]
    public async Task Cli_adds_lists_changes_and_removes_through_the_api()
    {
        var config = Load() with { Http = _host.HttpEndpoint };
        async Task<(int Code, string Out, string Err)> Run(params string[] args)
        {
            var cmd = CommandLine.Parse(args);
            Assert.Equal(CommandKind.Export, cmd.Kind);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = await ExportCommand.RunAsync(config, cmd, stdout, stderr);
            return (code, stdout.ToString(), stderr.ToString());
        }
        var add = await Run("export", "add", "cli", "/cli", "--client", "127.0.0.2,ro,squash=all,anonuid=5,anongid=6", "--quota-bytes", "1MiB", "--trash", "2d");
        Assert.Equal(0, add.Code);
        Assert.Contains("saved", add.Out);
        var e = Load().Exports.Single(x => x.Name == "cli");
        Assert.Equal((ExportAccess.ReadOnly, SquashMode.All, 5u, 6u), (e.Clients![0].Access, e.Clients[0].Squash, e.Clients[0].AnonUid, e.Clients[0].AnonGid));
        Assert.Equal((1UL << 20, TimeSpan.FromDays(2)), (e.Quota.Bytes, e.TrashRetention));

        var list = await Run("export", "list");
        Assert.Equal(0, list.Code);
        Assert.Contains("cli\t/cli\trw\tclients: 127.0.0.2,ro,squash=all", list.Out);

        Assert.Equal(0, (await Run("export", "set", "cli", "--ro", "--quota-inodes", "9")).Code);
        e = Load().Exports.Single(x => x.Name == "cli");
        Assert.True(e.ReadOnly);
        Assert.Equal((1UL << 20, 9UL), (e.Quota.Bytes, e.Quota.Inodes)); // the bytes limit stayed
        Assert.Single(e.Clients!);

        Assert.Equal(0, (await Run("export", "set", "cli", "--open")).Code);
        Assert.Null(Load().Exports.Single(x => x.Name == "cli").Clients);

        var missing = await Run("export", "remove", "nope");
        Assert.Equal(1, missing.Code);
        Assert.Contains("no export \"nope\"", missing.Err);
        Assert.Equal(0, (await Run("export", "remove", "cli")).Code);
        Assert.DoesNotContain(Load().Exports, x => x.Name == "cli");
    }

    [Theory]
    [InlineData("export")]
    [InlineData("export", "frobnicate")]
    [InlineData("export", "add", "x")]
    [InlineData("export", "set", "x")]
    [InlineData("export", "list", "extra")]
    [InlineData("export", "add", "x", "/x", "--client", "10.0.0.1/8")]
    [InlineData("export", "add", "x", "/x", "--client", "*,rw,squash=maybe")]
    [InlineData("export", "add", "x", "/x", "--quota-bytes", "many")]
    [InlineData("export", "set", "x", "--trash", "forever")]
    [InlineData("export", "remove", "x", "--client", "*")]
    [InlineData("export", "set", "x", "--open", "--client", "*")]
    public void Cli_usage_errors(params string[] args)
    {
        Assert.Throws<UsageException>(() => CommandLine.Parse(args));
    }
}
