namespace NfsGate.Protocol.Tests;

/// <summary>
/// The MAC cache in front of the HMAC must change nothing but speed: a cached handle decodes the same, and a handle
/// whose body or MAC differs from a cached one is still BADHANDLE.
/// </summary>
public class FileHandleCacheTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Cold_and_warm_decodes_agree_with_another_codec()
    {
        var issuer = new FileHandleCodec(Secret);
        var verifier = new FileHandleCodec(Secret); // nothing cached: the first decode computes the MAC
        for (ulong ino = 1; ino < 200; ino++)
        {
            var h = new FileHandle(2, ino, (uint)ino * 7);
            var raw = issuer.Encode(h);
            Assert.Equal(raw, issuer.Encode(h)); // the second encode comes from the cache
            for (int round = 0; round < 2; round++)
            {
                Assert.True(verifier.TryDecode(raw, out var back));
                Assert.Equal(h, back);
            }
        }
    }

    [Fact]
    public void A_cached_handle_with_another_MAC_or_generation_is_rejected()
    {
        var codec = new FileHandleCodec(Secret);
        var raw = codec.Encode(new FileHandle(1, 42, 5));
        Assert.True(codec.TryDecode(raw, out _));
        var wrongMac = (byte[])raw.Clone();
        wrongMac[^1] ^= 0x80;
        Assert.False(codec.TryDecode(wrongMac, out _));
        // The same MAC on a neighbouring generation (what a client reusing an old handle's MAC would try).
        var otherGen = (byte[])raw.Clone();
        otherGen[16] ^= 1;
        Assert.False(codec.TryDecode(otherGen, out _));
        // A rejected handle does not poison the slot: the genuine one still decodes.
        Assert.True(codec.TryDecode(raw, out var h));
        Assert.Equal(new FileHandle(1, 42, 5), h);
    }

    [Fact]
    public void More_handles_than_slots_from_many_threads_all_verify()
    {
        var issuer = new FileHandleCodec(Secret);
        var codec = new FileHandleCodec(Secret);
        int n = 1 << 15; // twice the cache's slots: evictions and refills while other threads read
        var raws = Enumerable.Range(0, n).Select(i => issuer.Encode(new FileHandle((uint)(i % 3), (ulong)i, 1))).ToArray();
        int bad = 0;
        Parallel.For(0, 4, t =>
        {
            for (int i = t; i < n; i += 2)
            {
                var raw = raws[i];
                if (!codec.TryDecode(raw, out var h) || h.Inode != (ulong)i) Interlocked.Increment(ref bad);
                var forged = (byte[])raw.Clone();
                forged[20] ^= 4;
                if (codec.TryDecode(forged, out _)) Interlocked.Increment(ref bad);
            }
        });
        Assert.Equal(0, bad);
    }
}
