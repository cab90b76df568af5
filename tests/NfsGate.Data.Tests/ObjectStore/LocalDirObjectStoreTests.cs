using NfsGate.Data;

namespace NfsGate.Data.Tests.ObjectStore;

/// <summary>A directory under /tmp removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("nfsgate-obj-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed class LocalDirObjectStoreTests : ObjectStoreContract, IDisposable
{
    private readonly TempDir _dir = new();
    private int _n;

    protected override IObjectStore Create() => new LocalDirObjectStore(System.IO.Path.Combine(_dir.Path, $"store{_n++}"));

    public void Dispose() => _dir.Dispose();

    private static string[] FilesUnder(string root) =>
        Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(f => System.IO.Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Objects_are_plain_files_under_the_root_and_survive_a_new_instance()
    {
        var root = System.IO.Path.Combine(_dir.Path, "persist", "deep");
        var s = new LocalDirObjectStore(root);
        Assert.Equal(root, s.Root);
        Assert.Equal($"file://{root}", s.Describe());
        await s.PutAsync("chunks/0/1/7_0_5", B("12345"));
        Assert.Equal(["chunks/0/1/7_0_5"], FilesUnder(root)); // no temp file left behind
        Assert.Equal("12345", File.ReadAllText(System.IO.Path.Combine(root, "chunks/0/1/7_0_5")));

        var again = new LocalDirObjectStore(root);
        Assert.Equal(B("12345"), await GetAll(again, "chunks/0/1/7_0_5"));
    }

    [Fact]
    public async Task Temp_files_of_a_crashed_put_are_invisible_and_swept()
    {
        var root = System.IO.Path.Combine(_dir.Path, "crash");
        var s = new LocalDirObjectStore(root);
        await s.PutAsync("x/obj", B("whole"));
        // What a crash between "write temp" and "rename" leaves behind.
        File.WriteAllText(System.IO.Path.Combine(root, "x", LocalDirObjectStore.TempPrefix + "0123abcd"), "partial");
        File.WriteAllText(System.IO.Path.Combine(root, LocalDirObjectStore.TempPrefix + "ffff"), "partial");

        Assert.Equal([("x/obj", 5L)], await List(s, ""));
        Assert.Equal([("x/obj", 5L)], await List(s, "x/"));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.GetAsync("x/" + LocalDirObjectStore.TempPrefix + "0123abcd", 0, new byte[10]));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await s.PutAsync(LocalDirObjectStore.TempPrefix + "ffff", B("y")));

        Assert.Equal(2, s.RemoveTempFiles());
        Assert.Equal(["x/obj"], FilesUnder(root));
        Assert.Equal(B("whole"), await GetAll(s, "x/obj"));
    }

    [Fact]
    public async Task A_failed_put_leaves_neither_object_nor_temp_file()
    {
        var root = System.IO.Path.Combine(_dir.Path, "fail");
        var s = new LocalDirObjectStore(root);
        await s.PutAsync("f", B("file"));
        // "f" is a file, so "f/g" cannot be created: an I/O failure, reported as ObjectStoreException.
        var ex = await Assert.ThrowsAnyAsync<ObjectStoreException>(async () => await s.PutAsync("f/g", B("x")));
        Assert.IsNotType<ObjectNotFoundException>(ex);
        Assert.Equal(["f"], FilesUnder(root));
        Assert.Null(await s.HeadAsync("f/g"));
    }

    [Fact]
    public async Task Put_recreates_a_directory_removed_behind_its_back()
    {
        var root = System.IO.Path.Combine(_dir.Path, "rm");
        var s = new LocalDirObjectStore(root);
        await s.PutAsync("a/b/1", B("x"));
        Directory.Delete(System.IO.Path.Combine(root, "a"), recursive: true);
        await s.PutAsync("a/b/2", B("y"));
        Assert.Equal([("a/b/2", 1L)], await List(s, ""));
    }
}
