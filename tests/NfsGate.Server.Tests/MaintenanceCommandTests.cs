using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.RocksDb;
using NfsGate.Protocol;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.TestKit;

namespace NfsGate.Server.Tests;

/// <summary>`nfsgate fsck` and `nfsgate gc` against a data dir written by the real in-process server.</summary>
public sealed class MaintenanceCommandTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-maint-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    GatewayConfig Config() => ConfigLoader.Parse($$"""
        { "listen": "127.0.0.1:0", "portmapper": "off", "http": "off", "dataDir": "{{_dataDir}}",
          "exports": [ { "name": "default", "path": "/" } ] }
        """, "(test)", new Dictionary<string, string>(), []);

    string ChunksDir => Path.Combine(Config().ObjectStore.Path, "chunks");

    /// <summary>Starts the server, writes a 100 KiB file with UNSTABLE WRITE + COMMIT, stops the server.</summary>
    async Task WriteAFileAsync()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
        byte[] root = await nfs.MountHandleAsync("/");
        var created = await nfs.CreateAsync(root, "f");
        Assert.Equal(NfsStat3.NFS3_OK, created.Status);
        var data = new byte[100 * 1024];
        new Random(7).NextBytes(data);
        var written = await nfs.WriteAsync(created.Handle!, 0, data, StableHow3.UNSTABLE);
        Assert.Equal(NfsStat3.NFS3_OK, written.Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await nfs.CommitAsync(created.Handle!)).Status);
    }

    static async Task<(int Exit, string Out, string Err)> Run(Func<TextWriter, TextWriter, Task<int>> command)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await command(output, error);
        return (exit, output.ToString(), error.ToString());
    }

    Task<(int Exit, string Out, string Err)> Fsck(params string[] args) =>
        Run((o, e) => MaintenanceCommand.FsckAsync(Config(), CommandLine.Parse(["fsck", .. args]), o, e));

    Task<(int Exit, string Out, string Err)> Gc(params string[] args) =>
        Run((o, e) => MaintenanceCommand.GcAsync(Config(), CommandLine.Parse(["gc", .. args]), o, e));

    [Fact]
    public async Task Fsck_is_clean_after_a_write_and_names_a_deleted_block()
    {
        await WriteAFileAsync();
        var clean = await Fsck();
        Assert.Equal(0, clean.Exit);
        Assert.Contains("1 files", clean.Out);
        Assert.Contains("1 slices", clean.Out);
        Assert.Contains("objects: 1 blocks checked, 0 missing", clean.Out);
        Assert.Contains("fsck: clean", clean.Out);
        Assert.Contains("objects: 1/1", clean.Err);

        string block = Assert.Single(Directory.GetFiles(ChunksDir, "*", SearchOption.AllDirectories));
        File.Delete(block);
        var broken = await Fsck();
        Assert.Equal(1, broken.Exit);
        Assert.Contains("MissingBlock", broken.Out);
        Assert.Contains(Path.GetFileName(block), broken.Out);

        // --metadata-only makes no object requests, so the missing block goes unseen.
        var metaOnly = await Fsck("--metadata-only");
        Assert.Equal(0, metaOnly.Exit);
        Assert.Contains("not checked", metaOnly.Out);
    }

    [Fact]
    public async Task Gc_lists_a_leaked_block_then_deletes_it()
    {
        await WriteAFileAsync();
        // An upload whose AddSlices never happened: an allocated id with a block but no chunk referencing it.
        ulong id;
        using (var meta = new MetadataStore(new RocksKvStore(Config().Metadata.Path)))
            id = meta.NewSliceIds(1);
        string key = ObjectKeys.BlockKey(id, 0, 5);
        string planted = Path.Combine(Config().ObjectStore.Path, key);
        Directory.CreateDirectory(Path.GetDirectoryName(planted)!);
        File.WriteAllBytes(planted, [1, 2, 3, 4, 5]);

        var dry = await Gc();
        Assert.Equal(1, dry.Exit);
        Assert.Contains($"slice counter: {id}", dry.Out);
        Assert.Contains("1 referenced", dry.Out);
        Assert.Contains($"  {key}  5 B", dry.Out);
        Assert.Contains("dry run", dry.Out);
        Assert.Contains($"--max-slice-id {id}", dry.Out);
        Assert.True(File.Exists(planted));

        var delete = await Gc("--delete");
        Assert.Equal(0, delete.Exit);
        Assert.Contains("deleted all 1 leaked objects", delete.Out);
        Assert.False(File.Exists(planted));

        var again = await Gc("--delete");
        Assert.Equal(0, again.Exit);
        Assert.Contains("nothing leaked", again.Out);
        Assert.Equal(0, (await Fsck()).Exit);
    }

    [Fact]
    public async Task Gc_with_a_lower_bound_leaves_newer_ids_alone()
    {
        await WriteAFileAsync();
        ulong id;
        using (var meta = new MetadataStore(new RocksKvStore(Config().Metadata.Path)))
            id = meta.NewSliceIds(1);
        string planted = Path.Combine(Config().ObjectStore.Path, ObjectKeys.BlockKey(id, 0, 5));
        Directory.CreateDirectory(Path.GetDirectoryName(planted)!);
        File.WriteAllBytes(planted, [1, 2, 3, 4, 5]);

        var bounded = await Gc("--delete", "--max-slice-id", (id - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, bounded.Exit);
        Assert.Contains("1 newer than the bound", bounded.Out);
        Assert.True(File.Exists(planted));
    }

    [Fact]
    public async Task Gc_reports_keys_that_are_not_block_keys_and_keeps_them()
    {
        await WriteAFileAsync();
        string stranger = Path.Combine(ChunksDir, "notes.txt");
        File.WriteAllText(stranger, "mine");
        var gc = await Gc("--delete");
        Assert.Equal(1, gc.Exit);
        Assert.Contains("UnparsableObjectKey", gc.Out);
        Assert.Contains("not block keys", gc.Out);
        Assert.True(File.Exists(stranger));
    }

    [Fact]
    public async Task Fsck_and_gc_refuse_while_the_server_holds_the_store()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        var fsck = await Fsck();
        Assert.Equal(1, fsck.Exit);
        Assert.Contains("stop the server first", fsck.Err);
        var gc = await Gc("--delete");
        Assert.Equal(1, gc.Exit);
        Assert.Contains("stop the server first", gc.Err);
    }

    [Fact]
    public async Task A_data_dir_without_metadata_is_a_failure_not_a_clean_check()
    {
        var fsck = await Fsck();
        Assert.Equal(1, fsck.Exit);
        Assert.Contains("no metadata store", fsck.Err);
        Assert.False(Directory.Exists(Config().Metadata.Path));
    }

    [Fact]
    public async Task Fsstat_of_a_local_store_reports_the_disk()
    {
        await using var host = await GatewayHost.StartAsync(Config(), NullLoggerFactory.Instance, CancellationToken.None);
        await using var nfs = await Nfs3Client.ConnectAsync(host.NfsEndpoint!);
        var stat = await nfs.FsStatAsync(await nfs.MountHandleAsync("/"));
        Assert.Equal(NfsStat3.NFS3_OK, stat.Status);
        var disk = new DriveInfo(Config().ObjectStore.Path);
        Assert.Equal((ulong)disk.TotalSize, stat.TBytes);
        Assert.True(stat.FBytes <= stat.TBytes);
    }

    [Theory]
    [InlineData(1024L * 1024 * 3 / 2, "1.5 MiB")]
    [InlineData(5L, "5 B")]
    [InlineData(1024L, "1 KiB")]
    [InlineData(0L, "0 B")]
    public void Human_sizes(long bytes, string text) => Assert.Equal(text, MaintenanceCommand.Human(bytes));
}
