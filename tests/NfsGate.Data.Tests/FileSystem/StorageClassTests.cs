using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

/// <summary>
/// exports[].storageClass at the file-system seam: every block of a cold volume is put with its class (flushes,
/// staged writeback records, compaction rewrites), blocks of other volumes without one.
/// </summary>
public class StorageClassTests
{
    private const int Ki = 1 << 10;

    private static MemoryObjectStore Objects(FsHarness h) => (MemoryObjectStore)h.Store.Inner;

    private static string? ClassOf(FsHarness h, string key) => Objects(h).PutOptionsOf(key)?.StorageClass;

    private static (IFsVolume Vol, ulong Ino) NewColdFile(FsHarness h, string volume, string name)
    {
        var vol = h.Fs.Volume(h.Meta.GetOrCreateVolumeId(volume));
        var res = vol.Create(Credential.Root, INamespace.RootInode, name, CreateMode.Unchecked, new SetAttrRequest { Mode = 0b110_100_100 }, 0);
        Assert.Equal(FsStatus.Ok, res.Status);
        return (vol, res.Obj!.Value.Inode);
    }

    private static async Task WriteCommitAsync(IFsVolume vol, ulong ino, long off, byte[] data)
    {
        Assert.Equal(FsStatus.Ok, (await vol.WriteAsync(Credential.Root, ino, (ulong)off, data, StableHow.Unstable)).Status);
        Assert.Equal(FsStatus.Ok, (await vol.CommitAsync(Credential.Root, ino)).Status);
    }

    [Fact]
    public async Task Blocks_of_a_cold_volume_carry_its_class_through_flushes_and_compaction()
    {
        var options = FsHarness.Fast();
        options.CompactSliceCount = 8;
        await using var h = new FsHarness(Backend.Memory, options);
        ulong hot = h.NewFile("hot");
        await h.WriteAsync(hot, 0, FsHarness.Random(5 << 20, 1));
        await h.CommitAsync(hot);
        var hotKeys = h.ObjectKeys().ToHashSet();
        Assert.Equal(2, hotKeys.Count);

        uint coldId = h.Meta.GetOrCreateVolumeId("cold");
        h.Fs.SetStorageClass(coldId, "STANDARD_IA");
        var (vol, ino) = NewColdFile(h, "cold", "f");
        var model = new byte[68 * Ki];
        var rng = new Random(5);
        for (int i = 0; i < 30; i++) // small overlapping commits: a fragmented chunk, compacted in the background
        {
            long off = rng.Next(0, 64) * Ki;
            var piece = FsHarness.Random(4 * Ki, 100 + i);
            await WriteCommitAsync(vol, ino, off, piece);
            piece.CopyTo(model, off);
        }
        await WriteCommitAsync(vol, ino, 64 << 20, FsHarness.Random(5 << 20, 2)); // full blocks too, in chunk 1
        await FsHarness.PollAsync(() => h.Fs.Compactions > 0 && h.FsInternal.Compactor!.Idle);
        await FsHarness.PollAsync(() => h.Meta.PendingDeletes(1000).Count == 0);

        var coldKeys = h.ObjectKeys().Where(k => !hotKeys.Contains(k)).ToList();
        Assert.True(coldKeys.Count >= 3, $"{coldKeys.Count} cold objects");
        Assert.All(coldKeys, k => Assert.Equal("STANDARD_IA", ClassOf(h, k)));
        Assert.All(hotKeys, k => Assert.Null(ClassOf(h, k)));
        var back = new byte[model.Length];
        Assert.Equal(FsStatus.Ok, (await vol.ReadAsync(Credential.Root, ino, 0, back)).Status);
        Assert.Equal(model, back);

        // Back to the default: new blocks are put without a class (old ones keep theirs: S3 sets it per object).
        h.Fs.SetStorageClass(coldId, null);
        var before = h.ObjectKeys().ToHashSet();
        await WriteCommitAsync(vol, ino, 128 << 20, FsHarness.Random(1000, 3));
        var added = Assert.Single(h.ObjectKeys(), k => !before.Contains(k));
        Assert.Null(ClassOf(h, added));
    }

    [Fact]
    public async Task Staged_writeback_records_are_uploaded_with_the_class()
    {
        var options = FsHarness.Fast();
        options.CommitMode = CommitMode.Writeback;
        await using var h = new FsHarness(Backend.Memory, options);
        h.Fs.SetStorageClass(h.VolumeId, "GLACIER_IR");
        ulong ino = h.NewFile("f");
        h.FailPuts = true; // staged now, uploaded after the store recovers
        await h.WriteAsync(ino, 0, FsHarness.Random(300 * Ki, 4));
        Assert.Equal(FsStatus.Ok, (await h.Vol.CommitAsync(Credential.Root, ino)).Status);
        Assert.Equal(0, h.ObjectCount());
        h.FailPuts = false;
        await h.SettleAsync();
        var key = Assert.Single(h.ObjectKeys());
        Assert.Equal("GLACIER_IR", ClassOf(h, key));
    }

    [Fact]
    public async Task An_unknown_class_is_refused()
    {
        await using var h = new FsHarness(Backend.Memory);
        Assert.Throws<ArgumentException>(() => h.Fs.SetStorageClass(h.VolumeId, "GLACIER"));
        Assert.Throws<ArgumentException>(() => h.Fs.SetStorageClass(h.VolumeId, "COLD"));
    }
}
