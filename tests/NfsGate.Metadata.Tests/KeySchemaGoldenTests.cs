namespace NfsGate.Metadata.Tests;

/// <summary>
/// Freezes the on-disk key schema (see the table in Keys.cs). A failure here means existing stores would no longer be
/// readable: add a new key kind instead of changing one. This file only ever grows.
/// </summary>
public class KeySchemaGoldenTests
{
    private static string Hex(byte[] b) => Convert.ToHexString(b);

    [Fact]
    public void Inode_keys()
    {
        // 'V' 00000102 'A' 0000000000000304 kind ...
        const string p = "56" + "00000102" + "41" + "0000000000000304";
        Assert.Equal(p + "49", Hex(Keys.Attr(0x102, 0x304)));
        Assert.Equal(p + "44" + "6162", Hex(Keys.Dentry(0x102, 0x304, "ab")));
        Assert.Equal(p + "53" + "0000000000000005", Hex(Keys.ReadDirIndex(0x102, 0x304, 5)));
        Assert.Equal(p + "43" + "00000007", Hex(Keys.Chunk(0x102, 0x304, 7)));
        Assert.Equal(p + "58", Hex(Keys.Symlink(0x102, 0x304)));
        Assert.Equal(p + "45", Hex(Keys.Verifier(0x102, 0x304)));
        Assert.Equal(p + "51", Hex(Keys.DirCounter(0x102, 0x304)));
    }

    [Fact]
    public void Range_ends()
    {
        const string p = "56" + "00000102" + "41" + "0000000000000304";
        Assert.Equal(p + "44", Hex(Keys.DentryStart(0x102, 0x304)));
        Assert.Equal(p + "45", Hex(Keys.DentryEnd(0x102, 0x304)));
        Assert.Equal(p + "54", Hex(Keys.ReadDirIndexEnd(0x102, 0x304)));
        Assert.Equal(p + "44", Hex(Keys.ChunkEnd(0x102, 0x304)));
        Assert.Equal("4C", Hex(Keys.DeleteQueueStart));
        Assert.Equal("4D", Hex(Keys.DeleteQueueEnd));
    }

    [Fact]
    public void Volume_counters()
    {
        Assert.Equal("56" + "00000009" + "4E", Hex(Keys.NextInode(9)));
        Assert.Equal("56" + "00000009" + "55", Hex(Keys.UsedBytes(9)));
        Assert.Equal("56" + "00000009" + "4B", Hex(Keys.InodeCount(9)));
        Assert.Equal("56" + "00000009" + "63", Hex(Keys.ChunkSize(9)));
        Assert.Equal("01" + "0000400000000000", Convert.ToHexString(Codec.EncodeU64((ulong)Layout.ChunkSize)));
    }

    [Fact]
    public void Quota_and_trash_keys()
    {
        Assert.Equal("56" + "00000009" + "71", Hex(Keys.Quota(9)));
        Assert.Equal("56" + "00000009" + "72", Hex(Keys.TrashRetention(9)));
        Assert.Equal("56" + "00000009" + "74", Hex(Keys.TrashDir(9)));
        Assert.Equal("56" + "00000009" + "52", Hex(Keys.TrashSeq(9)));
        Assert.Equal("56" + "00000009" + "54" + "0000000000000102", Hex(Keys.TrashEntry(9, 0x102)));
        Assert.Equal("56" + "00000009" + "55", Hex(Keys.TrashEntryEnd(9)));
        Assert.Equal("56" + "00000009" + "62", Hex(Keys.TrashBytes(9)));
        Assert.Equal("56" + "00000009" + "69", Hex(Keys.TrashInodes(9)));
        Assert.Equal("01" + "0A00000000000000" + "0300000000000000", Convert.ToHexString(VolumeMeta.EncodeQuota(new VolumeQuota(10, 3))));
    }

    [Fact]
    public void Global_keys()
    {
        Assert.Equal("45" + "2F6578", Hex(Keys.Export("/ex")));
        Assert.Equal("4776", Hex(Keys.NextVolume));
        Assert.Equal("4773", Hex(Keys.NextSlice));
        Assert.Equal("476B", Hex(Keys.Secret));
        Assert.Equal("4C" + "0000000000000102" + "0000000000000304", Hex(Keys.DeleteQueue(0x102, 0x304)));
        Assert.Equal("4D" + "0000000000000304", Hex(Keys.DeleteIndex(0x304)));
        Assert.Equal("48" + "6E31", Hex(Keys.Node("n1")));
        Assert.Equal("4A" + "4000000000000304", Hex(Keys.InlineData(0x304 | Slice.InlineFlag)));
        Assert.Equal("4A", Hex(Keys.InlineDataStart));
        Assert.Equal("4B", Hex(Keys.InlineDataEnd));
    }

    [Fact]
    public void Big_endian_ids_sort_numerically()
    {
        var a = Keys.ReadDirIndex(1, 2, 255);
        var b = Keys.ReadDirIndex(1, 2, 256);
        Assert.True(NfsGate.Metadata.Kv.ByteComparer.Instance.Compare(a, b) < 0);
        Assert.True(NfsGate.Metadata.Kv.ByteComparer.Instance.Compare(Keys.Attr(1, 0xFF), Keys.Attr(1, 0x100)) < 0);
        Assert.True(NfsGate.Metadata.Kv.ByteComparer.Instance.Compare(Keys.Attr(0xFF, 9), Keys.Attr(0x100, 1)) < 0);
    }

    [Fact]
    public void Value_formats()
    {
        var a = new Attr
        {
            Inode = 7, Generation = 0x01020304, Type = FileType.Regular, Mode = 0x1A4, Nlink = 2, Uid = 5, Gid = 6, Size = 0x10,
            RdevMajor = 1, RdevMinor = 2, Atime = new(1, 2), Mtime = new(3, 4), Ctime = new(5, 6), Parent = 9,
        };
        var v = Codec.EncodeAttr(a);
        Assert.Equal(
            "01" + "01" + "A4010000" + "02000000" + "05000000" + "06000000" + "1000000000000000" + "01000000" + "02000000" +
            "0100000000000000" + "02000000" + "0300000000000000" + "04000000" + "0500000000000000" + "06000000" +
            "0900000000000000" + "04030201", Hex(v));
        Assert.Equal(a, Codec.DecodeAttr(7, v));
        Assert.Equal("01" + "02" + "0300000000000000" + "0400000000000000", Hex(Codec.EncodeDentry(FileType.Directory, 3, 4)));
        Assert.Equal("01" + "0300000000000000" + "05" + "78", Hex(Codec.EncodeIndex(3, FileType.Symlink, "x"u8)));
        Assert.Equal("01" + "0201000000000000" + "07000000" + "0900000000000000" + "03000000" + "ABCD",
            Hex(Codec.EncodeInline(0x102, 7, 9, 3, [0xAB, 0xCD])));
        Assert.Equal(new InlineRow(5, 0x102, 7, 9, 3, 2), Codec.DecodeInlineRow(5, Codec.EncodeInline(0x102, 7, 9, 3, [0xAB, 0xCD])));
        Assert.Equal("01" + "0100000000000000" + "02000000" + "03000000" + "04000000" + "05000000",
            Hex(Codec.EncodeSlices(null, [new Slice(1, 2, 3, 4, 5)])));
        Assert.Equal("01" + "6869", Hex(Codec.EncodeString("hi")));
        Assert.Equal("01" + "0700000000000000", Hex(Codec.EncodeU64(7)));
        Assert.Equal("01" + "07000000", Hex(Codec.EncodeU32(7)));
    }

    [Fact]
    public void Unknown_value_version_is_rejected()
    {
        var v = Codec.EncodeAttr(default);
        v[0] = 2;
        Assert.Throws<InvalidDataException>(() => Codec.DecodeAttr(1, v));
    }
}
