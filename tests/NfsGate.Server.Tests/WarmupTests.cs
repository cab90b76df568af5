using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>Cache warm-up through the admin API and the CLI, against the real in-process server (local store + block cache).</summary>
public sealed class WarmupTests : IDisposable
{
    const int SmallFile = 100 * 1024;
    const int LargeFile = (4 << 20) + 100 * 1024; // two blocks
    const int OtherFile = 50 * 1024;

    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-warmup-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config(string cache = "") => ConfigLoader.Parse($$"""
        { "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}",
          "exports": [ { "name": "default", "path": "/" } ] {{cache}} }
        """, "(test)", new Dictionary<string, string>(), []);

    Task<GatewayHost> StartAsync(string cache = "") => GatewayHost.StartAsync(Config(cache), NullLoggerFactory.Instance, CancellationToken.None);

    /// <summary>/data/a (100 KiB), /data/sub/b (4.1 MiB: two blocks), /other (50 KiB), each with UNSTABLE WRITEs + COMMIT.</summary>
    static async Task WriteTreeAsync(GatewayHost host)
    {
        await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
        byte[] root = await nfs.MountHandleAsync("/");
        var data = await nfs.MkdirAsync(root, "data");
        Assert.Equal(NfsStat3.NFS3_OK, data.Status);
        var sub = await nfs.MkdirAsync(data.Handle!, "sub");
        Assert.Equal(NfsStat3.NFS3_OK, sub.Status);
        await WriteFileAsync(nfs, data.Handle!, "a", SmallFile);
        await WriteFileAsync(nfs, sub.Handle!, "b", LargeFile);
        await WriteFileAsync(nfs, root, "other", OtherFile);
    }

    static async Task WriteFileAsync(Nfs3Client nfs, byte[] dir, string name, int size)
    {
        var created = await nfs.CreateAsync(dir, name);
        Assert.Equal(NfsStat3.NFS3_OK, created.Status);
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        const int piece = 512 * 1024;
        for (int off = 0; off < size; off += piece)
        {
            var w = await nfs.WriteAsync(created.Handle!, (ulong)off, bytes.AsMemory(off, Math.Min(piece, size - off)), StableHow3.UNSTABLE);
            Assert.Equal(NfsStat3.NFS3_OK, w.Status);
        }
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.CommitAsync(created.Handle!)).Status);
    }

    /// <summary>POST /admin/warmup: the status and every NDJSON object of the body.</summary>
    static async Task<(HttpStatusCode Status, List<JsonElement> Lines)> PostAsync(IPEndPoint ep, string json)
    {
        using var client = new HttpClient();
        using var response = await client.PostAsync($"http://{ep}/admin/warmup", new StringContent(json, Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (response.StatusCode, lines);
    }

    static async Task<JsonElement> RunAsync(GatewayHost host, string mode, params string[] paths)
    {
        string json = JsonSerializer.Serialize(new Dictionary<string, object> { ["export"] = "default", ["paths"] = paths, ["mode"] = mode });
        var (status, lines) = await PostAsync(host.HttpEndpoint!, json);
        Assert.Equal(HttpStatusCode.OK, status);
        var final = lines[^1];
        Assert.True(final.GetProperty("done").GetBoolean());
        Assert.All(lines.SkipLast(1), l => Assert.False(l.GetProperty("done").GetBoolean()));
        Assert.Equal(0, final.GetProperty("errors").GetInt64());
        return final;
    }

    static long N(JsonElement e, string name) => e.GetProperty(name).GetInt64();

    [Fact]
    public async Task Evict_check_fetch_check_through_the_api()
    {
        await using var host = await StartAsync();
        await WriteTreeAsync(host);
        var cache = host.BlockCache!;

        // Written data is cached on the way in; evicting the whole export drops all four blocks.
        var evicted = await RunAsync(host, "evict", "/");
        Assert.Equal(3, N(evicted, "filesTotal"));
        Assert.Equal(4, N(evicted, "blocksTotal"));
        Assert.Equal(4, N(evicted, "evictedBlocks"));
        Assert.Equal(SmallFile + LargeFile + OtherFile, N(evicted, "evictedBytes"));
        Assert.Equal(0, cache.Counters.Entries);

        var cold = await RunAsync(host, "check", "/data");
        Assert.Equal(2, N(cold, "filesTotal"));
        Assert.Equal(SmallFile + LargeFile, N(cold, "bytesTotal"));
        Assert.Equal(3, N(cold, "blocksTotal"));
        Assert.Equal(SmallFile + LargeFile, N(cold, "blockBytes"));
        Assert.Equal(0, N(cold, "cachedBytes"));
        Assert.Equal(0, N(cold, "cachedFiles"));

        long fetchesBefore = cache.Counters.InnerFetches;
        var fetched = await RunAsync(host, "fetch", "/data");
        Assert.Equal(3, N(fetched, "fetchedBlocks"));
        Assert.Equal(SmallFile + LargeFile, N(fetched, "cachedBytes"));
        Assert.Equal(2, N(fetched, "files"));
        Assert.Equal(3, cache.Counters.InnerFetches - fetchesBefore);
        Assert.Equal(3, cache.Counters.Entries);

        var warm = await RunAsync(host, "check", "/data");
        Assert.Equal(SmallFile + LargeFile, N(warm, "cachedBytes"));
        Assert.Equal(2, N(warm, "cachedFiles"));

        // /other was not asked for: the whole export is 2 of 3 files cached. A second fetch of /data fetches nothing.
        var all = await RunAsync(host, "check", "/");
        Assert.Equal(2, N(all, "cachedFiles"));
        Assert.Equal(3, N(all, "filesTotal"));
        Assert.Equal(0, N(await RunAsync(host, "fetch", "/data", "/data/sub"), "fetchedBlocks"));
        Assert.Equal(3, cache.Counters.InnerFetches - fetchesBefore);
    }

    [Fact]
    public async Task Hard_links_and_overlapping_paths_count_once_and_empty_files_count_as_cached()
    {
        await using var host = await StartAsync();
        await WriteTreeAsync(host);
        await using (var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!))
        {
            byte[] root = await nfs.MountHandleAsync("/");
            var data = await nfs.LookupAsync(root, "data");
            var a = await nfs.LookupAsync(data.Handle!, "a");
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.LinkAsync(a.Handle!, root, "a-link")).Status);
            Assert.Equal(NfsStat3.NFS3_OK, (await nfs.CreateAsync(root, "empty")).Status);
        }
        await RunAsync(host, "evict", "/");

        var check = await RunAsync(host, "check", "/", "/data", "/a-link", "/data/sub/b");
        Assert.Equal(4, N(check, "filesTotal")); // a, b, other, empty
        Assert.Equal(4, N(check, "blocksTotal"));
        Assert.Equal(1, N(check, "cachedFiles")); // the empty one: nothing of it is missing
        Assert.Equal(0, N(check, "cachedBytes"));
    }

    [Theory]
    [InlineData("""{"export":"nope","paths":["/"]}""", HttpStatusCode.NotFound, "unknown export \"nope\"")]
    [InlineData("""{"export":"default","paths":["/missing"]}""", HttpStatusCode.NotFound, "no such file or directory")]
    [InlineData("""{"export":"default","paths":["relative"]}""", HttpStatusCode.BadRequest, "must start with /")]
    [InlineData("""{"export":"default","mode":"warm"}""", HttpStatusCode.BadRequest, "\"mode\" must be")]
    [InlineData("""{"paths":["/"]}""", HttpStatusCode.BadRequest, "\"export\"")]
    [InlineData("""{"export":"default","extra":1}""", HttpStatusCode.BadRequest, "unknown key \"extra\"")]
    [InlineData("not json", HttpStatusCode.BadRequest, "not valid JSON")]
    public async Task Bad_requests_get_a_4xx_with_the_error(string json, HttpStatusCode expected, string error)
    {
        await using var host = await StartAsync();
        var (status, lines) = await PostAsync(host.HttpEndpoint!, json);
        Assert.Equal(expected, status);
        Assert.Contains(error, Assert.Single(lines).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Without_a_cache_the_api_says_so()
    {
        await using var host = await StartAsync(""", "cache": { "enabled": false }""");
        var (status, lines) = await PostAsync(host.HttpEndpoint!, """{"export":"default","paths":["/"]}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("the block cache is disabled", Assert.Single(lines).GetProperty("error").GetString());
    }

    static async Task<(int Exit, string Out, string Err)> Cli(params string[] args)
    {
        var command = CommandLine.Parse(["warmup", .. args]);
        var config = ConfigLoader.Load(command.ConfigFile, new Dictionary<string, string>(), command.Overrides);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await WarmupCommand.RunAsync(config, command, stdout, stderr, stderrIsTerminal: false);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Cli_against_the_running_server()
    {
        await using var host = await StartAsync();
        await WriteTreeAsync(host);
        string http = $"127.0.0.1:{host.HttpEndpoint!.Port}";

        var evict = await Cli("--export", "default", "--evict", "--http", http, "/");
        Assert.Equal(0, evict.Exit);
        Assert.StartsWith("evicted: 4 blocks", evict.Out);

        var cold = await Cli("--export", "default", "--check", "--http", http, "/data");
        Assert.Equal(0, cold.Exit);
        Assert.StartsWith("cached: 0 of 4296KiB", cold.Out);
        Assert.Contains("(0%), 0 of 2 files fully cached", cold.Out);

        var fetch = await Cli("--export=default", $"--http={http}", "/data/sub", "/data/a");
        Assert.Equal(0, fetch.Exit);
        Assert.StartsWith("fetched: 3 blocks", fetch.Out);

        var warm = await Cli("--export", "default", "--check", "--http", http, "/data");
        Assert.Equal(0, warm.Exit);
        Assert.Contains("(100%), 2 of 2 files fully cached", warm.Out);

        var badExport = await Cli("--export", "nope", "--http", http, "/");
        Assert.Equal(1, badExport.Exit);
        Assert.Contains("unknown export \"nope\"", badExport.Err);

        // The real entry point: exit codes for success, server-side refusal and usage.
        Assert.Equal(0, await Program.Main(["warmup", "--export", "default", "--check", "--http", http, "/"]));
        Assert.Equal(1, await Program.Main(["warmup", "--export", "default", "--http", http, "/missing"]));
        Assert.Equal(2, await Program.Main(["warmup", "--http", http, "/"]));
    }

    [Fact]
    public async Task Cli_exits_1_when_nothing_listens()
    {
        // Bind and release a port so that (most likely) nothing listens on it.
        var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var (exit, _, err) = await Cli("--export", "default", "--http", $"127.0.0.1:{port}", "/");
        Assert.Equal(1, exit);
        Assert.Contains("cannot talk to the server", err);
    }

    [Fact]
    public void Parses_the_warmup_command()
    {
        var c = CommandLine.Parse(["warmup", "--export", "media", "--check", "--http", "127.0.0.1:9200", "/a", "/b/c"]);
        Assert.Equal(CommandKind.Warmup, c.Kind);
        Assert.Equal("media", c.Export);
        Assert.Equal(WarmupMode.Check, c.WarmupMode);
        Assert.Equal(["/a", "/b/c"], c.Paths);
        Assert.Contains(new KeyValuePair<string, string>("http", "127.0.0.1:9200"), c.Overrides);

        var fetch = CommandLine.Parse(["warmup", "--export=x", "--config", "/etc/nfsgate.json", "/"]);
        Assert.Equal(WarmupMode.Fetch, fetch.WarmupMode);
        Assert.Equal("/etc/nfsgate.json", fetch.ConfigFile);
        Assert.Equal(WarmupMode.Evict, CommandLine.Parse(["warmup", "--export", "x", "--evict", "/"]).WarmupMode);
    }

    [Theory]
    [InlineData("needs --export", "warmup", "/")]
    [InlineData("at least one PATH", "warmup", "--export", "x")]
    [InlineData("at most one of --check and --evict", "warmup", "--export", "x", "--check", "--evict", "/")]
    [InlineData("start with /", "warmup", "--export", "x", "data")]
    [InlineData("unknown option \"--data-dir\"", "warmup", "--export", "x", "--data-dir", "/d", "/")]
    [InlineData("--check takes no value", "warmup", "--export", "x", "--check=yes", "/")]
    [InlineData("--export given twice", "warmup", "--export", "x", "--export", "y", "/")]
    [InlineData("unknown option \"--export\"", "fsck", "--export", "x")]
    public void Rejects_bad_warmup_command_lines(string message, params string[] args) =>
        Assert.Contains(message, Assert.Throws<UsageException>(() => CommandLine.Parse(args)).Message);

    [Fact]
    public async Task Cli_refuses_a_config_with_the_http_listener_off()
    {
        var command = CommandLine.Parse(["warmup", "--export", "x", "/"]);
        var config = ConfigLoader.Parse("""{ "http": "off" }""", "(test)", new Dictionary<string, string>(), []);
        var stderr = new StringWriter();
        Assert.Equal(2, await WarmupCommand.RunAsync(config, command, new StringWriter(), stderr, stderrIsTerminal: false));
        Assert.Contains("HTTP listener is off", stderr.ToString());
    }
}
