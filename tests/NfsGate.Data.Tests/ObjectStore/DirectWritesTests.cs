using System.Runtime.InteropServices;
using NfsGate.Data;

namespace NfsGate.Data.Tests.ObjectStore;

/// <summary>The local store with O_DIRECT Puts is still a full object store.</summary>
public sealed class DirectLocalDirObjectStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<LocalDirObjectStore> _stores = [];

    protected override IObjectStore Create()
    {
        var s = new LocalDirObjectStore(System.IO.Path.Combine(_dir.Path, $"store{_stores.Count}"), directWrites: true);
        _stores.Add(s); // disposed at the end: each holds up to 8 aligned 4 MiB buffers of native memory
        return s;
    }

    public void Dispose()
    {
        foreach (var s in _stores) s.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// What O_DIRECT Puts promise beyond the contract: exact lengths although the disk is written in 4 KiB units, the
/// bytes not left in the page cache (the point of it), and buffered writes wherever O_DIRECT cannot be used.
/// </summary>
public sealed partial class DirectWritesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData((1 << 20) + 3)]
    [InlineData(DirectWrites.MaxBytes)]
    public async Task Objects_keep_their_exact_length_and_bytes(int length)
    {
        using var s = new LocalDirObjectStore(_dir.Path, directWrites: true);
        var data = new byte[length];
        new Random(length).NextBytes(data);
        await s.PutAsync("blocks/b", data);
        Assert.Equal(1, s.DirectPuts); // the temp directory's file system (ext4, tmpfs) takes O_DIRECT
        var path = Path.Combine(_dir.Path, "blocks/b");
        Assert.Equal(length, new FileInfo(path).Length); // the 4 KiB padding was cut off
        Assert.Equal(data, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task A_direct_put_leaves_nothing_in_the_page_cache_and_a_buffered_one_does()
    {
        var data = new byte[1 << 20];
        new Random(7).NextBytes(data);
        using var direct = new LocalDirObjectStore(Path.Combine(_dir.Path, "d"), directWrites: true);
        var buffered = new LocalDirObjectStore(Path.Combine(_dir.Path, "b"));
        await direct.PutAsync("x", data);
        await buffered.PutAsync("x", data);
        Assert.Equal(0, ResidentPages(Path.Combine(_dir.Path, "d/x")));
        Assert.Equal(256, ResidentPages(Path.Combine(_dir.Path, "b/x"))); // the control: written through the page cache
    }

    [Fact]
    public async Task Objects_beyond_the_buffer_size_empty_ones_and_refusing_file_systems_are_written_buffered()
    {
        using var s = new LocalDirObjectStore(_dir.Path, directWrites: true);
        var big = new byte[DirectWrites.MaxBytes + 1];
        new Random(1).NextBytes(big);
        await s.PutAsync("big", big);
        await s.PutAsync("empty", ReadOnlyMemory<byte>.Empty);
        s.Direct!.Refused = true;
        await s.PutAsync("refused", big.AsMemory(0, 5000));
        Assert.Equal(0, s.DirectPuts);
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(_dir.Path, "big")));
        Assert.Empty(await File.ReadAllBytesAsync(Path.Combine(_dir.Path, "empty")));
        Assert.Equal(big.AsSpan(0, 5000).ToArray(), await File.ReadAllBytesAsync(Path.Combine(_dir.Path, "refused")));
    }

    [Fact]
    public async Task Aligned_buffers_are_reused_and_at_most_a_few_kept()
    {
        using var s = new LocalDirObjectStore(_dir.Path, directWrites: true);
        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => s.PutAsync($"k{i}", new byte[8192 + i]).AsTask()));
        Assert.Equal(32, s.DirectPuts);
        Assert.InRange(s.Direct!.Idle, 1, 8);
    }

    /// <summary>Pages of the file in the page cache, by mincore(2) over a read-only mapping (mapping faults nothing in).</summary>
    private static unsafe int ResidentPages(string path)
    {
        using var h = File.OpenHandle(path);
        long len = RandomAccess.GetLength(h);
        nint addr = Mmap(0, (nuint)len, PROT_READ, MAP_SHARED, (int)h.DangerousGetHandle(), 0);
        Assert.NotEqual(-1, addr);
        try
        {
            var vec = new byte[(len + 4095) / 4096];
            fixed (byte* v = vec) Assert.Equal(0, Mincore(addr, (nuint)len, v));
            return vec.Count(b => (b & 1) != 0);
        }
        finally
        {
            Munmap(addr, (nuint)len);
        }
    }

    private const int PROT_READ = 1, MAP_SHARED = 1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static unsafe partial int Mincore(nint addr, nuint length, byte* vec);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint addr, nuint length);
}
