using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol.Tests;

public class XdrVectorTests
{
    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static byte[] Encode(Action<XdrWriter> write)
    {
        using var w = new XdrWriter();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static readonly Attr Sample = new()
    {
        Inode = 0x1122334455667788, Generation = 9, Type = FileType.Regular, Mode = 0x81A4 /* S_IFREG|0644: type bits dropped */,
        Nlink = 2, Uid = 1000, Gid = 100, Size = 5000, RdevMajor = 8, RdevMinor = 1,
        Atime = new Timespec(1, 2), Mtime = new Timespec(0x60000000, 999_999_999), Ctime = new Timespec(-5, 7),
    };

    [Fact]
    public void Fattr3_encodes_every_field_in_rfc_order()
    {
        var got = Encode(w => Nfs3Xdr.WriteFattr3(w, Sample, 3));
        var want = Bytes(
            "00000001" + "000001A4" + "00000002" + "000003E8" + "00000064" + // type, mode 0644, nlink, uid, gid
            "0000000000001388" + "0000000000002000" +                          // size 5000, used 8192 (two 4 KiB units)
            "00000000" + "00000000" +                                          // rdev: not a device
            "0000000000000003" + "1122334455667788" +                          // fsid = export id, fileid = inode
            "00000001 00000002" + "60000000 3B9AC9FF" + "00000000 00000007");  // atime, mtime, ctime (negative clamps to 0)
        Assert.Equal(want, got);
        Assert.Equal(Nfs3Xdr.Fattr3Size, got.Length);
    }

    [Fact]
    public void Fattr3_of_a_device_carries_rdev()
    {
        var dev = Sample with { Type = FileType.CharDevice, Size = 0 };
        var got = Encode(w => Nfs3Xdr.WriteFattr3(w, dev, 1));
        Assert.Equal(Bytes("00000008 00000001"), got[36..44]);
        Assert.Equal(Bytes("0000000000000000"), got[28..36]); // used of an empty file
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(1UL, 4096UL)]
    [InlineData(4096UL, 4096UL)]
    [InlineData(4097UL, 8192UL)]
    [InlineData(ulong.MaxValue, ulong.MaxValue)]
    public void Used_rounds_up_to_4k(ulong size, ulong used) => Assert.Equal(used, Nfs3Xdr.Used(size));

    [Fact]
    public void Post_op_and_pre_op_attr_absent_are_one_zero_word()
    {
        Assert.Equal(Bytes("00000000"), Encode(w => Nfs3Xdr.WritePostOpAttr(w, null, 1)));
        Assert.Equal(Bytes("00000000"), Encode(w => Nfs3Xdr.WritePreOpAttr(w, null)));
        Assert.Equal(Nfs3Xdr.PostOpAttrSize, Encode(w => Nfs3Xdr.WritePostOpAttr(w, Sample, 1)).Length);
    }

    [Fact]
    public void Wcc_data_encodes_pre_then_post()
    {
        var got = Encode(w => Nfs3Xdr.WriteWcc(w, new WccAttr(10, new Timespec(1, 2), new Timespec(3, 4)), null, 1));
        Assert.Equal(Bytes("00000001 000000000000000A 00000001 00000002 00000003 00000004 00000000"), got);
    }

    private static SetAttrRequest DecodeSattr(byte[] b)
    {
        var r = new XdrReader(b);
        var s = Nfs3Xdr.ReadSattr3(ref r);
        Assert.Equal(0, r.Remaining);
        return s;
    }

    [Fact]
    public void Sattr3_nothing_set()
    {
        var s = DecodeSattr(Bytes("00000000 00000000 00000000 00000000 00000000 00000000"));
        Assert.Null(s.Mode);
        Assert.Null(s.Uid);
        Assert.Null(s.Gid);
        Assert.Null(s.Size);
        Assert.Equal(TimeHow.DontChange, s.AtimeHow);
        Assert.Equal(TimeHow.DontChange, s.MtimeHow);
    }

    [Fact]
    public void Sattr3_everything_set()
    {
        var s = DecodeSattr(Bytes(
            "00000001 000001ED" + "00000001 000003E8" + "00000001 00000064" + "00000001 0000000100000000" +
            "00000002 00000005 00000006" + "00000001"));
        Assert.Equal(0x1EDu, s.Mode);
        Assert.Equal(1000u, s.Uid);
        Assert.Equal(100u, s.Gid);
        Assert.Equal(1UL << 32, s.Size);
        Assert.Equal(TimeHow.ClientTime, s.AtimeHow);
        Assert.Equal(new Timespec(5, 6), s.Atime);
        Assert.Equal(TimeHow.ServerTime, s.MtimeHow);
    }

    [Fact]
    public void Sattr3_mode_keeps_only_permission_bits()
    {
        var s = DecodeSattr(Bytes("00000001 0000FFFF 00000000 00000000 00000000 00000000 00000000"));
        Assert.Equal(0xFFFu, s.Mode);
    }

    [Fact]
    public void Sattr3_bad_time_how_is_garbage()
    {
        Assert.Throws<XdrException>(() => DecodeSattr(Bytes("00000000 00000000 00000000 00000000 00000003 00000000")));
    }

    [Fact]
    public void Sattr3_truncated_at_every_split_is_garbage()
    {
        var full = Bytes("00000001 000001ED 00000001 000003E8 00000000 00000000 00000002 00000005 00000006 00000000");
        DecodeSattr(full);
        for (int cut = 0; cut < full.Length; cut++)
        {
            var part = full[..cut];
            Assert.Throws<XdrException>(() => DecodeSattr(part));
        }
    }

    private static (NfsStat3 St, string Name) Name(byte[] wire)
    {
        var r = new XdrReader(wire);
        var st = Nfs3Xdr.ReadFileName(ref r, out var n);
        return (st, n);
    }

    private static byte[] Str(int len, byte fill = (byte)'a')
    {
        using var w = new XdrWriter();
        w.WriteOpaque(Enumerable.Repeat(fill, len).ToArray());
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void File_names_are_capped_at_255_bytes_with_nametoolong()
    {
        Assert.Equal(NfsStat3.NFS3_OK, Name(Str(255)).St);
        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, Name(Str(256)).St);
        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, Name(Str(Nfs3Const.NameReadCap)).St);
        Assert.Throws<XdrException>(() => Name(Str(Nfs3Const.NameReadCap + 1)));
    }

    [Fact]
    public void Empty_names_and_names_with_slash_or_nul_are_invalid()
    {
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, Name(Str(0)).St);
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, Name(Str(3, (byte)'/')).St);
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, Name(Str(3, 0)).St);
        Assert.Equal((NfsStat3.NFS3_OK, "."), Name(Str(1, (byte)'.')));
    }

    [Fact]
    public void Handles_longer_than_fhsize_are_garbage()
    {
        var r = new XdrReader(Str(65));
        try
        {
            Nfs3Xdr.ReadHandle(ref r);
            Assert.Fail("no exception");
        }
        catch (XdrException)
        {
        }
    }
}
