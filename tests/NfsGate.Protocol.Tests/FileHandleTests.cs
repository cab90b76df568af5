namespace NfsGate.Protocol.Tests;

public class FileHandleTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        var codec = new FileHandleCodec(Secret);
        var h = new FileHandle(0xA1B2C3D4, 0x0102030405060708, 0xCAFEBABE);
        var raw = codec.Encode(h);
        Assert.Equal(FileHandleCodec.Size, raw.Length);
        Assert.True(raw.Length <= Nfs3Const.NFS3_FHSIZE);
        Assert.Equal(FileHandleCodec.Version, raw[0]);
        Assert.Equal(new byte[] { 0xA1, 0xB2, 0xC3, 0xD4, 1, 2, 3, 4, 5, 6, 7, 8, 0xCA, 0xFE, 0xBA, 0xBE }, raw[1..17]);
        Assert.True(codec.TryDecode(raw, out var back));
        Assert.Equal(h, back);
    }

    [Fact]
    public void Encoding_is_deterministic_across_codec_instances()
    {
        // The same handle on every node and after restart: only the secret matters.
        var h = new FileHandle(3, 42, 7);
        Assert.Equal(new FileHandleCodec(Secret).Encode(h), new FileHandleCodec(Secret).Encode(h));
    }

    [Fact]
    public void Every_flipped_bit_is_rejected()
    {
        var codec = new FileHandleCodec(Secret);
        var raw = codec.Encode(new FileHandle(1, 1, 0));
        for (int i = 0; i < raw.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                var bad = (byte[])raw.Clone();
                bad[i] ^= (byte)(1 << bit);
                Assert.False(codec.TryDecode(bad, out _), $"byte {i} bit {bit}");
            }
        }
    }

    [Fact]
    public void Wrong_length_is_rejected()
    {
        var codec = new FileHandleCodec(Secret);
        var raw = codec.Encode(new FileHandle(1, 1, 0));
        Assert.False(codec.TryDecode(raw[..^1], out _));
        Assert.False(codec.TryDecode([.. raw, 0], out _));
        Assert.False(codec.TryDecode([], out _));
    }

    [Fact]
    public void A_handle_from_another_secret_is_rejected()
    {
        var other = new FileHandleCodec(Enumerable.Repeat((byte)9, 32).ToArray());
        var raw = other.Encode(new FileHandle(1, 1, 0));
        Assert.False(new FileHandleCodec(Secret).TryDecode(raw, out _));
    }

    [Fact]
    public void A_short_secret_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new FileHandleCodec(new byte[8]));
    }

    [Fact]
    public void Resolving_a_handle_of_an_unknown_export_is_stale()
    {
        var codec = new FileHandleCodec(Secret);
        var prog = new Nfs3Program(new ExportTable(), null!, codec, new Nfs3Options(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, prog.Resolve(codec.Encode(new FileHandle(5, 1, 0)), out _, out _, out _));
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, prog.Resolve(new byte[FileHandleCodec.Size], out _, out _, out _));
    }
}
