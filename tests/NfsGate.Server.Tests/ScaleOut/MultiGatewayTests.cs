using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Protocol;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;
using NfsGate.TestShared;

namespace NfsGate.Server.Tests.ScaleOut;

/// <summary>
/// Three real gateways in-process on 127.0.0.2, .3 and .4, sharing one PostgreSQL database (metadata) and one object
/// directory, as they would behind a load balancer: whatever one node did, another must see — handles, data written
/// and committed, readdir cookies, membership.
/// </summary>
public sealed class MultiGatewayTests : IAsyncLifetime
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"nfsgate-scaleout-{Guid.NewGuid():N}");
    readonly List<GatewayHost> _hosts = [];
    string _connectionString = "";

    public Task InitializeAsync()
    {
        if (!PostgresCluster.SkipRequested) _connectionString = PostgresCluster.NewDatabase();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var h in _hosts) await h.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    GatewayConfig Config(int node) => ConfigLoader.Parse($$"""
        {
          "listen": "127.0.0.{{node + 1}}:0", "portmapper": "off", "http": "127.0.0.{{node + 1}}:0",
          "dataDir": "{{_root}}/node{{node}}",
          "metadata": { "engine": "postgres", "connectionString": "{{_connectionString}}" },
          "objectStore": { "type": "local", "path": "{{_root}}/objects" },
          "exports": [ { "name": "default", "path": "/" } ]
        }
        """, "(test)", new Dictionary<string, string>(), []);

    async Task<GatewayHost> Start(int node)
    {
        var host = await GatewayHost.StartAsync(Config(node), NullLoggerFactory.Instance, CancellationToken.None);
        _hosts.Add(host);
        return host;
    }

    static async Task<Nfs3Client> Client(GatewayHost host) =>
        await Nfs3Client.ConnectAsync(host.NfsEndpoint!, RpcClientCredential.Sys(0, 0));

    [PgFact]
    public async Task Handles_data_and_cookies_from_one_node_work_on_the_others()
    {
        var a = await Start(1);
        var b = await Start(2);
        var c = await Start(3);
        await using var ca = await Client(a);
        await using var cb = await Client(b);
        await using var cc = await Client(c);

        // The handle secret lives in the shared metadata: a root handle from A is the root handle on B and C.
        byte[] rootA = await ca.MountHandleAsync("/");
        Assert.Equal(rootA, await cb.MountHandleAsync("/"));
        Assert.Equal(NfsStat3.NFS3_OK, (await cc.GetAttrAsync(rootA)).Status);

        // Written UNSTABLE through A and committed there (close-to-open: the client's close sends COMMIT) ...
        var created = await ca.CreateAsync(rootA, "data.bin");
        Assert.Equal(NfsStat3.NFS3_OK, created.Status);
        byte[] fh = created.Handle!;
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 123);
        const int block = 256 * 1024;
        for (int off = 0; off < data.Length; off += block)
        {
            int n = Math.Min(block, data.Length - off);
            var w = await ca.WriteAsync(fh, (ulong)off, data.AsMemory(off, n), StableHow3.UNSTABLE);
            Assert.Equal(NfsStat3.NFS3_OK, w.Status);
        }
        Assert.Equal(NfsStat3.NFS3_OK, (await ca.CommitAsync(fh)).Status);

        // ... reads back byte for byte through B, with A's handle, and C sees the size.
        var read = new MemoryStream();
        while (read.Length < data.Length)
        {
            var r = await cb.ReadAsync(fh, (ulong)read.Length, block);
            Assert.Equal(NfsStat3.NFS3_OK, r.Status);
            Assert.True(r.Count > 0);
            read.Write(r.Data, 0, (int)r.Count);
        }
        Assert.Equal(data, read.ToArray());
        Assert.Equal((ulong)data.Length, (await cc.GetAttrAsync(fh)).Attr!.Size);
        var looked = await cc.LookupAsync(rootA, "data.bin");
        Assert.Equal(fh, looked.Handle);

        // A directory listed in pages: the first page from A, the rest from B and C with A's cookie and verifier.
        var dir = (await ca.MkdirAsync(rootA, "dir")).Handle!;
        for (int i = 0; i < 60; i++) Assert.Equal(NfsStat3.NFS3_OK, (await cb.CreateAsync(dir, $"f{i:D2}")).Status);
        var names = new List<string>();
        ulong cookie = 0, verifier = 0;
        Nfs3Client[] clients = [ca, cb, cc];
        for (int page = 0; ; page++)
        {
            var r = await clients[page % 3].ReadDirAsync(dir, cookie, verifier, count: 512);
            Assert.Equal(NfsStat3.NFS3_OK, r.Status);
            foreach (var e in r.Entries) { names.Add(e.Name); cookie = e.Cookie; }
            verifier = r.Verifier;
            if (r.Eof) break;
            Assert.True(page < 100, "readdir does not end");
        }
        Assert.True(names.Count > 0 && clients.Length == 3);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"f{i:D2}").Concat([".", ".."]).Order(StringComparer.Ordinal),
            names.Order(StringComparer.Ordinal));

        // A rename through C is what A sees next, no cache in between.
        Assert.Equal(NfsStat3.NFS3_OK, (await cc.RenameAsync(rootA, "data.bin", dir, "moved.bin")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await ca.LookupAsync(rootA, "data.bin")).Status);
        Assert.Equal(fh, (await ca.LookupAsync(dir, "moved.bin")).Handle);
    }

    [PgFact]
    public async Task Membership_counts_live_nodes_and_status_lists_them()
    {
        var a = await Start(1);
        var b = await Start(2);
        var c = await Start(3);
        a.Membership!.Beat();
        Assert.Equal(3, a.Membership.LiveNodes);
        Assert.Equal(3, a.Membership.Nodes.Count);
        Assert.Equal(1.0 / 3, a.Qos.Engine.Share, 6); // every QoS cap is split across the live gateways
        Assert.Contains(a.Membership.Nodes, n => n.NfsAddress == Endpoint.Format(b.NfsEndpoint!));

        // A node that stops cleanly removes its row: the others count it out at their next heartbeat.
        int changedTo = 0;
        a.Membership.LiveNodesChanged += n => changedTo = n;
        _hosts.Remove(c);
        await c.DisposeAsync();
        a.Membership.Beat();
        Assert.Equal(2, a.Membership.LiveNodes);
        Assert.Equal(2, changedTo);
        Assert.Equal(0.5, a.Qos.Engine.Share, 6); // rebalanced when a node leaves

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(Program.ExitOk, StatusCommand.Run(Config(1), stdout, stderr));
        string text = stdout.ToString();
        Assert.Contains(Endpoint.Format(a.NfsEndpoint!), text);
        Assert.Contains(Endpoint.Format(b.NfsEndpoint!), text);
        Assert.Contains("2 node(s), 2 live", text);

        // A node that died without a word ages out: seen from an hour later, both rows are dead.
        var later = new ShiftedTime(TimeSpan.FromHours(1));
        stdout = new StringWriter();
        Assert.Equal(Program.ExitFailure, StatusCommand.Run(Config(1), stdout, stderr, later));
        Assert.Contains("2 node(s), 0 live", stdout.ToString());
    }

    sealed class ShiftedTime(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }
}
