using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>
/// LOOKUP hands the name's bytes to the metadata without making a string, except for names that are not valid UTF-8,
/// which take the string path so they match what CREATE stored (invalid sequences become U+FFFD). These pin that
/// both kinds of name are found again, exactly as before the allocation-free path existed.
/// </summary>
[Collection(ServerCollection.Name)]
public class LookupNameBytesTests(ProtocolServer server)
{
    private static async Task<NfsStat3> Raw(Nfs3Client c, Nfs3Proc proc, byte[] dir, byte[] name, bool create)
    {
        var reply = await c.CallRawAsync(Nfs3Const.PROGRAM, Nfs3Const.VERSION, (uint)proc, w =>
        {
            w.WriteOpaque(dir);
            w.WriteOpaque(name);
            if (!create) return;
            w.WriteUInt32(0); // UNCHECKED
            for (int i = 0; i < 6; i++) w.WriteUInt32(0); // sattr3: nothing set
        });
        Assert.Equal(AcceptStat.SUCCESS, reply.AcceptStat);
        return (NfsStat3)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.Results);
    }

    [Fact]
    public async Task Names_are_found_whether_or_not_they_are_valid_UTF8()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        byte[] invalid = [(byte)'f', 0xFF];
        byte[] utf8 = "é-ü"u8.ToArray();
        Assert.Equal(NfsStat3.NFS3_OK, await Raw(c, Nfs3Proc.CREATE, root, invalid, create: true));
        Assert.Equal(NfsStat3.NFS3_OK, await Raw(c, Nfs3Proc.CREATE, root, utf8, create: true));
        Assert.Equal(NfsStat3.NFS3_OK, await Raw(c, Nfs3Proc.LOOKUP, root, invalid, create: false));
        Assert.Equal(NfsStat3.NFS3_OK, await Raw(c, Nfs3Proc.LOOKUP, root, utf8, create: false));
        // The invalid byte was stored as U+FFFD, so its UTF-8 spelling names the same file (the old behaviour).
        Assert.Equal(NfsStat3.NFS3_OK, await Raw(c, Nfs3Proc.LOOKUP, root, [(byte)'f', 0xEF, 0xBF, 0xBD], create: false));
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, await Raw(c, Nfs3Proc.LOOKUP, root, "é-u"u8.ToArray(), create: false));
        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, await Raw(c, Nfs3Proc.LOOKUP, root, new byte[256], create: false));
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, await Raw(c, Nfs3Proc.LOOKUP, root, "a/b"u8.ToArray(), create: false));
    }
}
