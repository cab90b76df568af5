using NfsGate.Metadata.Maintenance;

namespace NfsGate.Metadata.Tests;

/// <summary>
/// Each volume records its chunk size when its root is created; a volume from before the row keeps 64 MiB chunks,
/// because its slice lists were written for them. Every gateway opening the volume must agree.
/// </summary>
public class ChunkSizeTests
{
    private static readonly Credential Root = Credential.Root;

    [Fact]
    public void A_new_volume_records_the_current_chunk_size()
    {
        using var fs = new Fs();
        Assert.Equal(4L << 20, Layout.ChunkSize);
        Assert.Equal(Layout.ChunkSize, fs.V.ChunkSize);
        Assert.Equal((ulong)Layout.ChunkSize, Codec.DecodeU64(fs.Store.Kv.Read(r => r.Get(Keys.ChunkSize(1)))!));
        // Another gateway over the same store reads the same size.
        Assert.Equal(Layout.ChunkSize, new MetadataStore(fs.Store.Kv).OpenVolume(1).ChunkSize);
    }

    [Fact]
    public void A_volume_without_the_row_keeps_legacy_chunks_and_truncates_in_them()
    {
        var kv = Engines.Memory();
        var first = new MetadataStore(kv).OpenVolume(1);
        ulong f = first.Create(Root, Fs.RootIno, "f", CreateMode.Guarded, new SetAttrRequest(), 0).Obj!.Value.Inode;
        kv.Transact(t => { t.Delete(Keys.ChunkSize(1)); return 0; }, durable: true); // as an older build left it

        var v = new MetadataStore(kv).OpenVolume(1);
        Assert.Equal(Layout.LegacyChunkSize, v.ChunkSize);
        // A slice 10 MiB into chunk 0 is where the 64 MiB layout put it. A truncate to 12 MiB must hide its tail with a
        // hole slice in chunk 0; reckoned in 4 MiB chunks it would touch chunk 3 instead and leave 12–14 MiB visible.
        const uint tenMiB = 10 << 20;
        Assert.Equal(FsStatus.Ok, v.BeginWrite(Root, f, tenMiB, 4 << 20).Status);
        Assert.Equal(FsStatus.Ok, v.AddSlices(f, [(0, new Slice(5, 4 << 20, tenMiB, 0, 4 << 20))], durable: true));
        Assert.Equal(FsStatus.Ok, v.SetAttr(Root, f, new SetAttrRequest { Size = 12 << 20 }, null).Status);
        Assert.Equal(FsStatus.Ok, v.ReadChunk(f, 0, out var slices));
        Assert.Equal(new Slice(0, (uint)(Layout.LegacyChunkSize - (12 << 20)), 12 << 20, 0, (uint)(Layout.LegacyChunkSize - (12 << 20))), slices[^1]);
        Assert.Empty(MetadataChecker.Check(kv).Problems);
    }

    [Fact]
    public void A_new_volume_truncates_in_its_own_chunks()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        uint c = (uint)fs.V.ChunkSize;
        Assert.Equal(FsStatus.Ok, fs.V.BeginWrite(Root, f, 0, 3 * c).Status);
        Assert.Equal(FsStatus.Ok, fs.V.AddSlices(f, [(0, new Slice(5, c, 0, 0, c)), (1, new Slice(6, c, 0, 0, c)), (2, new Slice(7, c, 0, 0, c))], durable: true));
        Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Root, f, new SetAttrRequest { Size = c + 100 }, null).Status);
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 2, out var gone));
        Assert.Empty(gone);
        Assert.Equal(FsStatus.Ok, fs.V.ReadChunk(f, 1, out var cut));
        Assert.Equal([new Slice(6, c, 0, 0, c), new Slice(0, c - 100, 100, 0, c - 100)], cut);
    }

    [Theory]
    [InlineData(3L << 20)]         // not whole blocks
    [InlineData(128L << 20)]       // past the largest
    [InlineData(0L)]
    public void A_recorded_size_this_build_cannot_use_refuses_the_volume_and_the_checker_reports_it(long size)
    {
        var kv = Engines.Memory();
        new MetadataStore(kv).OpenVolume(1);
        kv.Transact(t => { t.Set(Keys.ChunkSize(1), Codec.EncodeU64((ulong)size)); return 0; }, durable: true);
        var ex = Assert.Throws<InvalidDataException>(() => new MetadataStore(kv).OpenVolume(1));
        Assert.Contains("chunk size " + size, ex.Message);
        var problem = Assert.Single(MetadataChecker.Check(kv).Problems);
        Assert.Equal(ProblemKind.BadValue, problem.Kind);
        Assert.Contains("chunk size " + size, problem.Message);
    }

    [Fact]
    public void The_checker_bounds_slices_by_the_volumes_chunk_size()
    {
        // 5 MiB into a chunk is fine for a legacy volume and outside a new volume's chunk.
        foreach (bool legacy in new[] { false, true })
        {
            var kv = Engines.Memory();
            var v = new MetadataStore(kv).OpenVolume(1);
            ulong f = v.Create(Root, Fs.RootIno, "f", CreateMode.Guarded, new SetAttrRequest(), 0).Obj!.Value.Inode;
            if (legacy) kv.Transact(t => { t.Delete(Keys.ChunkSize(1)); return 0; }, durable: true);
            Assert.Equal(FsStatus.Ok, v.BeginWrite(Root, f, 0, 6 << 20).Status);
            kv.Transact(t => { t.Set(Keys.Chunk(1, f, 0), Codec.EncodeSlices(null, [new Slice(5, 1 << 20, 5 << 20, 0, 1 << 20)])); return 0; });
            var problems = MetadataChecker.Check(kv).Problems;
            if (legacy) Assert.Empty(problems);
            else Assert.Equal(ProblemKind.BadSlice, Assert.Single(problems).Kind);
        }
    }
}
