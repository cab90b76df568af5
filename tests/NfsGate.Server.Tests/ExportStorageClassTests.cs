using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Data;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Metadata.Kv;
using NfsGate.Protocol;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;
using NfsGate.Server.Metrics;

namespace NfsGate.Server.Tests;

/// <summary>
/// exports[].storageClass: read and checked from the file and the environment, kept by the admin API's JSON form,
/// applied to the export's volume when published, and passed on by the metrics decorator of the object store.
/// </summary>
public class ExportStorageClassTests
{
    static GatewayConfig Parse(string exportJson, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse($$"""{ "exports": [ {{exportJson}} ] }""", "(test)", env ?? [], []);

    [Fact]
    public void The_class_is_read_and_absent_means_the_store_default()
    {
        Assert.Equal("STANDARD_IA", Parse("""{ "name": "a", "path": "/a", "storageClass": "STANDARD_IA" }""").Exports[0].StorageClass);
        Assert.Null(Parse("""{ "name": "a", "path": "/a" }""").Exports[0].StorageClass);
        var env = new Dictionary<string, string> { ["NFSGATE_EXPORTS__0__STORAGECLASS"] = "GLACIER_IR" };
        Assert.Equal("GLACIER_IR", Parse("""{ "name": "a", "path": "/a" }""", env).Exports[0].StorageClass);
    }

    [Theory]
    [InlineData("\"COLD\"", "expected one of")]
    [InlineData("\"standard_ia\"", "expected one of")]
    [InlineData("\"GLACIER\"", "use GLACIER_IR")]
    [InlineData("\"DEEP_ARCHIVE\"", "use GLACIER_IR")]
    [InlineData("3", "exports[0].storageClass")]
    public void Bad_classes_name_the_key(string value, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Parse($$"""{ "name": "a", "path": "/a", "storageClass": {{value}} }"""));
        Assert.Contains("exports[0].storageClass", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_admin_json_form_keeps_the_class()
    {
        var e = Parse("""{ "name": "a", "path": "/a", "storageClass": "ONEZONE_IA" }""").Exports[0];
        var json = ExportAdminJson.ToJson(e);
        Assert.Equal("ONEZONE_IA", (string?)json["storageClass"]);
        Assert.Equal("ONEZONE_IA", ExportAdminJson.Parse(json).StorageClass);
        Assert.Contains("storageClass", ExportAdminJson.OwnedKeys); // a rewrite of the file drops a class that was removed
        Assert.False(ExportAdminJson.ToJson(e with { StorageClass = null }).ContainsKey("storageClass"));
    }

    [Fact]
    public async Task Publishing_an_export_gives_its_volume_the_class()
    {
        var store = new RecordingStore();
        using var meta = new MetadataStore(new MemoryKvStore());
        await using var fs = new GatewayFileSystem(meta, store, new FileSystemOptions());
        var table = new ExportTable();
        var admin = new ExportAdmin(table, meta, fs, NullLogger.Instance);
        admin.Apply([
            new ExportConfig("cold", "/cold", false) { StorageClass = "STANDARD_IA" },
            new ExportConfig("hot", "/hot", false),
        ]);

        Assert.Equal("STANDARD_IA", await WriteOneBlockAsync(table, "cold", store));
        Assert.Null(await WriteOneBlockAsync(table, "hot", store));

        // A runtime change (admin API, SIGHUP) applies to blocks written after it.
        Assert.Equal(200, admin.Update("hot", e => e with { StorageClass = "GLACIER_IR" }).Status);
        Assert.Equal("GLACIER_IR", await WriteOneBlockAsync(table, "hot", store));
    }

    static async Task<string?> WriteOneBlockAsync(ExportTable table, string export, RecordingStore store)
    {
        var vol = table.All.Single(e => e.Name == export).Volume;
        var created = vol.Create(Credential.Root, INamespace.RootInode, $"f{Guid.NewGuid():N}", CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
        Assert.Equal(FsStatus.Ok, created.Status);
        ulong ino = created.Obj!.Value.Inode;
        int before = store.Puts.Count;
        // Larger than FileSystemOptions.InlineMaxBytes: a smaller flush would be committed inline, with no PUT yet.
        Assert.Equal(FsStatus.Ok, (await vol.WriteAsync(Credential.Root, ino, 0, new byte[100_000], StableHow.Unstable)).Status);
        Assert.Equal(FsStatus.Ok, (await vol.CommitAsync(Credential.Root, ino)).Status);
        Assert.Equal(before + 1, store.Puts.Count);
        return store.Puts.Last().Options.StorageClass;
    }

    [Fact]
    public async Task The_metrics_decorator_passes_the_hints_on()
    {
        var inner = new RecordingStore();
        var store = new InstrumentedObjectStore(inner, new ObjectStoreMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry())));
        var cold = ObjectPutOptions.WithStorageClass("STANDARD_IA");
        await store.PutAsync("a", new byte[] { 1 }, cold);
        await store.PutAsync("b", new byte[] { 2 });
        Assert.Equal([("a", cold), ("b", ObjectPutOptions.Default)], inner.Puts.ToArray());
    }

    [Fact]
    public void Every_decorator_in_the_server_overrides_the_hinted_put()
    {
        // The interface's default body drops the hints; a wrapper that forgets to override it compiles fine.
        var hinted = typeof(IObjectStore).GetMethod(nameof(IObjectStore.PutAsync), [typeof(string), typeof(ReadOnlyMemory<byte>), typeof(ObjectPutOptions), typeof(CancellationToken)])!;
        var decorators = typeof(GatewayHost).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IObjectStore).IsAssignableFrom(t)
            && t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(IObjectStore)))).ToList();
        Assert.Contains(typeof(InstrumentedObjectStore), decorators);
        foreach (var type in decorators)
        {
            var map = type.GetInterfaceMap(typeof(IObjectStore));
            Assert.True(map.TargetMethods[Array.IndexOf(map.InterfaceMethods, hinted)].DeclaringType == type, $"{type} drops put hints");
        }
    }

    /// <summary>Keeps objects in memory and records every put's hints, in order.</summary>
    sealed class RecordingStore : IObjectStore
    {
        readonly ConcurrentDictionary<string, byte[]> _objects = new();
        public ConcurrentQueue<(string Key, ObjectPutOptions Options)> Puts { get; } = new();

        public string Describe() => "recording";

        public ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
        {
            if (!_objects.TryGetValue(key, out var data)) throw new ObjectNotFoundException(key);
            int n = (int)Math.Max(0, Math.Min(destination.Length, data.Length - offset));
            data.AsSpan((int)Math.Min(offset, data.Length), n).CopyTo(destination.Span);
            return ValueTask.FromResult(n);
        }

        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => PutAsync(key, data, ObjectPutOptions.Default, ct);

        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
        {
            _objects[key] = data.ToArray();
            Puts.Enqueue((key, options));
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(string key, CancellationToken ct = default)
        {
            _objects.TryRemove(key, out _);
            return ValueTask.CompletedTask;
        }

        public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) =>
            ValueTask.FromResult(_objects.TryGetValue(key, out var d) ? (long?)d.Length : null);

        public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
        {
            await Task.CompletedTask;
            foreach (var (key, d) in _objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal))
                yield return (key, d.Length);
        }
    }
}
