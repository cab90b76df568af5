using NfsGate.Rpc;

namespace NfsGate.Rpc.Tests;

public class XdrTests
{
    private static byte[] Write(Action<XdrWriter> body)
    {
        using var w = new XdrWriter(4); // tiny on purpose: every test also exercises growth
        body(w);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void Integers_are_big_endian()
    {
        Assert.Equal(new byte[] { 0x01, 0x02, 0x03, 0x04 }, Write(w => w.WriteUInt32(0x01020304)));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE }, Write(w => w.WriteInt32(-2)));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Write(w => w.WriteUInt64(0x0102030405060708)));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, Write(w => w.WriteInt64(-1)));
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0, 0, 0, 0 }, Write(w => { w.WriteBool(true); w.WriteBool(false); }));

        var r = new XdrReader(new byte[] { 0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF, 0xFF, 0xFE, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0, 0, 0, 0, 0, 0, 0 });
        Assert.Equal(0x01020304u, r.ReadUInt32());
        Assert.Equal(-2, r.ReadInt32());
        Assert.Equal(0x0102030405060708ul, r.ReadUInt64());
        Assert.Equal(long.MinValue, r.ReadInt64());
        Assert.Equal(0, r.Remaining);
    }

    [Theory]
    [InlineData(0u, false)]
    [InlineData(1u, true)]
    public void Bool_decodes(uint wire, bool expected)
    {
        var r = new XdrReader(Write(w => w.WriteUInt32(wire)));
        Assert.Equal(expected, r.ReadBool());
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(0xFFFFFFFFu)]
    public void Bool_out_of_range_throws(uint wire)
    {
        var bytes = Write(w => w.WriteUInt32(wire));
        Assert.Throws<XdrException>(() => new XdrReader(bytes).ReadBool());
    }

    [Fact]
    public void Enum_is_passed_through_unvalidated()
    {
        var r = new XdrReader(Write(w => w.WriteUInt32(12345)));
        Assert.Equal(12345u, r.ReadEnum());
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 8)]
    [InlineData(4, 8)]
    [InlineData(5, 12)]
    [InlineData(8, 12)]
    public void Opaque_is_padded_with_zeros(int length, int encoded)
    {
        var data = Enumerable.Range(1, length).Select(i => (byte)i).ToArray();
        var bytes = Write(w => w.WriteOpaque(data));
        Assert.Equal(encoded, bytes.Length);
        Assert.Equal((uint)length, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        Assert.Equal(data, bytes.AsSpan(4, length).ToArray());
        Assert.All(bytes.AsSpan(4 + length).ToArray(), b => Assert.Equal(0, b));

        var r = new XdrReader(bytes);
        Assert.Equal(data, r.ReadOpaque(length).ToArray());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Fixed_opaque_round_trips_with_padding()
    {
        var bytes = Write(w => { w.WriteFixedOpaque([9, 8, 7]); w.WriteUInt32(7); });
        Assert.Equal(new byte[] { 9, 8, 7, 0, 0, 0, 0, 7 }, bytes);
        var r = new XdrReader(bytes);
        Assert.Equal(new byte[] { 9, 8, 7 }, r.ReadFixedOpaque(3).ToArray());
        Assert.Equal(7u, r.ReadUInt32());
    }

    [Fact]
    public void Opaque_over_cap_throws_before_reading_the_body()
    {
        var bytes = Write(w => w.WriteOpaque(new byte[10]));
        Assert.Throws<XdrException>(() => new XdrReader(bytes).ReadOpaque(9));
        Assert.Equal(10, new XdrReader(bytes).ReadOpaque(10).Length);
    }

    [Theory]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(100u)]
    public void Opaque_length_past_the_input_throws(uint announced)
    {
        var bytes = Write(w => { w.WriteUInt32(announced); w.WriteUInt32(0); });
        Assert.Throws<XdrException>(() => new XdrReader(bytes).ReadOpaque(int.MaxValue));
    }

    [Fact]
    public void String_round_trips_utf8_and_replaces_invalid_bytes()
    {
        var bytes = Write(w => w.WriteString("héllo"));
        Assert.Equal(4 + 6 + 2, bytes.Length);
        Assert.Equal("héllo", new XdrReader(bytes).ReadString(255));
        Assert.Throws<XdrException>(() => new XdrReader(bytes).ReadString(5));

        var invalid = Write(w => w.WriteOpaque([0x61, 0xFF, 0x62]));
        Assert.Equal("a\uFFFDb", new XdrReader(invalid).ReadString(255));
    }

    [Fact]
    public void Every_truncation_of_a_composite_throws()
    {
        var full = Write(w =>
        {
            w.WriteUInt32(1);
            w.WriteUInt64(2);
            w.WriteBool(true);
            w.WriteOpaque([1, 2, 3, 4, 5]);
            w.WriteString("name");
            w.WriteFixedOpaque([7, 7]);
        });
        Decode(full); // the full input decodes
        for (int cut = 0; cut < full.Length; cut++)
        {
            var part = full.AsSpan(0, cut).ToArray();
            Assert.Throws<XdrException>(() => Decode(part));
        }

        static void Decode(byte[] b)
        {
            var r = new XdrReader(b);
            Assert.Equal(1u, r.ReadUInt32());
            Assert.Equal(2ul, r.ReadUInt64());
            Assert.True(r.ReadBool());
            Assert.Equal(5, r.ReadOpaque(16).Length);
            Assert.Equal("name", r.ReadString(16));
            Assert.Equal(2, r.ReadFixedOpaque(2).Length);
            Assert.Equal(0, r.Remaining);
        }
    }

    [Fact]
    public void Skip_and_position_track_the_cursor()
    {
        var r = new XdrReader(new byte[12]);
        r.Skip(8);
        Assert.Equal(8, r.Position);
        Assert.Equal(4, r.Rest.Length);
        Assert.Throws<XdrException>(() => { var r2 = new XdrReader(new byte[3]); r2.Skip(4); });
    }

    [Fact]
    public void Opaque_span_is_filled_in_place_and_can_shrink()
    {
        using var w = new XdrWriter(8);
        w.WriteUInt32(0xAAAAAAAA);
        int lengthAt = w.Length;
        var span = w.GetOpaqueSpan(10);
        span.Fill(0x55);
        w.ShrinkOpaque(lengthAt, 5);
        w.WriteUInt32(0xBBBBBBBB);
        Assert.Equal(new byte[] { 0xAA, 0xAA, 0xAA, 0xAA, 0, 0, 0, 5, 0x55, 0x55, 0x55, 0x55, 0x55, 0, 0, 0, 0xBB, 0xBB, 0xBB, 0xBB },
            w.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Opaque_memory_can_be_filled_after_an_await()
    {
        using var w = new XdrWriter(4);
        int lengthAt = w.Length;
        var mem = w.GetOpaqueMemory(7);
        await Task.Yield();
        mem.Span.Fill(0x11);
        w.ShrinkOpaque(lengthAt, 6);
        Assert.Equal(new byte[] { 0, 0, 0, 6, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0, 0 }, w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Truncate_and_patch_rewrite_the_tail()
    {
        using var w = new XdrWriter(4);
        w.WriteUInt32(1);
        w.WriteUInt32(2);
        w.Truncate(4);
        w.WriteUInt32(3);
        w.PatchUInt32(0, 9);
        Assert.Equal(new byte[] { 0, 0, 0, 9, 0, 0, 0, 3 }, w.WrittenSpan.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Truncate(9));
    }

    [Fact]
    public void Writer_grows_past_its_initial_capacity()
    {
        var big = new byte[100_003];
        new Random(1).NextBytes(big);
        var bytes = Write(w => w.WriteOpaque(big));
        Assert.Equal(4 + 100_004, bytes.Length);
        Assert.Equal(big, new XdrReader(bytes).ReadOpaque(big.Length).ToArray());
    }
}
