using System.Reflection;
using NfsGate.Data.Cache;
using NfsGate.Data.S3;
using NfsGate.Data.Tests.FileSystem;

namespace NfsGate.Data.Tests.ObjectStore;

/// <summary>
/// Put hints (the storage class of a cold export's blocks) reach the store that acts on them through every decorator,
/// and S3 puts them on the request. A decorator that drops them would silently store cold data in the hot class.
/// </summary>
public sealed class ObjectPutHintTests : IDisposable
{
    private static readonly ObjectPutOptions Cold = ObjectPutOptions.WithStorageClass("STANDARD_IA");
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-hints-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every decorator of the data layer, wrapped around <paramref name="inner"/>.</summary>
    private IEnumerable<IObjectStore> Decorators(IObjectStore inner)
    {
        yield return new FaultyObjectStore(inner);
        yield return new CachingObjectStore(inner, new BlockCacheOptions { Path = Path.Combine(_dir, "cache-" + Guid.NewGuid().ToString("N")), SizeBytes = 1 << 20 });
        // Stacked as the server stacks them: cache over fault injection.
        yield return new CachingObjectStore(new FaultyObjectStore(inner), new BlockCacheOptions { Path = Path.Combine(_dir, "cache-" + Guid.NewGuid().ToString("N")), SizeBytes = 1 << 20 });
    }

    [Fact]
    public async Task Every_decorator_passes_the_hints_on()
    {
        int n = 0;
        foreach (var store in Decorators(new MemoryObjectStore()))
        {
            var inner = Innermost(store);
            string key = $"k{n++}";
            await store.PutAsync(key, new byte[] { 1, 2, 3 }, Cold);
            Assert.Same(Cold, inner.PutOptionsOf(key));
            await store.PutAsync(key + "-plain", new byte[] { 4 });
            Assert.Same(ObjectPutOptions.Default, inner.PutOptionsOf(key + "-plain"));
            (store as IDisposable)?.Dispose();
        }
    }

    private static MemoryObjectStore Innermost(IObjectStore s) => s switch
    {
        MemoryObjectStore m => m,
        FaultyObjectStore f => Innermost(f.Inner),
        CachingObjectStore c => Innermost(c.Inner),
        _ => throw new InvalidOperationException(s.GetType().Name),
    };

    [Fact]
    public void Every_decorator_in_the_data_layer_overrides_the_hinted_put()
    {
        // The interface's default body drops the hints; a decorator that forgets to override it compiles fine.
        var missing = DecoratorsDroppingHints(typeof(IObjectStore).Assembly);
        Assert.Empty(missing);
        Assert.Contains(typeof(FaultyObjectStore), DecoratorTypes(typeof(IObjectStore).Assembly)); // the scan sees decorators at all
    }

    /// <summary>Concrete stores that take an inner store in a constructor yet keep the interface's hint-dropping Put.</summary>
    public static List<string> DecoratorsDroppingHints(Assembly assembly)
    {
        var hinted = typeof(IObjectStore).GetMethod(nameof(IObjectStore.PutAsync), [typeof(string), typeof(ReadOnlyMemory<byte>), typeof(ObjectPutOptions), typeof(CancellationToken)])!;
        var missing = new List<string>();
        foreach (var type in DecoratorTypes(assembly))
        {
            var map = type.GetInterfaceMap(typeof(IObjectStore));
            int i = Array.IndexOf(map.InterfaceMethods, hinted);
            if (map.TargetMethods[i].DeclaringType != type) missing.Add(type.FullName!);
        }
        return missing;
    }

    public static List<Type> DecoratorTypes(Assembly assembly) =>
        [.. assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IObjectStore).IsAssignableFrom(t)
            && t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(IObjectStore))))];

    [Fact]
    public async Task The_local_directory_store_takes_and_ignores_hints()
    {
        IObjectStore store = new LocalDirObjectStore(Path.Combine(_dir, "objects"));
        await store.PutAsync("a/b", new byte[] { 7, 8 }, Cold);
        Assert.Equal(2, await store.HeadAsync("a/b"));
    }

    [Fact]
    public void S3_puts_carry_the_hinted_class_else_the_configured_one()
    {
        using var body = new MemoryStream();
        var options = new S3Options { Endpoint = "http://127.0.0.1:9", Bucket = "b", AccessKey = "a", SecretKey = "s" };
        using (var plain = new S3ObjectStore(options))
        {
            Assert.Null(plain.PutRequest("k", body, ObjectPutOptions.Default).StorageClass);
            Assert.Equal("STANDARD_IA", plain.PutRequest("k", body, Cold).StorageClass.Value);
        }
        using var glacier = new S3ObjectStore(options with { StorageClass = "GLACIER_IR" });
        Assert.Equal("GLACIER_IR", glacier.PutRequest("k", body, ObjectPutOptions.Default).StorageClass.Value);
        Assert.Equal("STANDARD_IA", glacier.PutRequest("k", body, Cold).StorageClass.Value); // the export's class wins
        Assert.Equal(("b", "k"), (glacier.PutRequest("k", body, Cold).BucketName, glacier.PutRequest("k", body, Cold).Key));
    }

    [Theory]
    [InlineData("GLACIER")]
    [InlineData("DEEP_ARCHIVE")]
    [InlineData("standard_ia")]
    [InlineData("")]
    public void Unknown_or_unreadable_classes_are_refused(string storageClass)
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectPutOptions.WithStorageClass(storageClass));
        Assert.Contains("GLACIER_IR", e.Message);
    }

    [Fact]
    public void No_class_is_the_default_options()
    {
        Assert.Same(ObjectPutOptions.Default, ObjectPutOptions.WithStorageClass(null));
        Assert.Equal("GLACIER_IR", ObjectPutOptions.WithStorageClass("GLACIER_IR").StorageClass);
    }
}
