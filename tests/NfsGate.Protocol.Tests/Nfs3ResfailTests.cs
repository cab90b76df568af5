using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>
/// Exact bytes of every procedure's failure reply when the dispatcher refuses the call before the handler runs:
/// the status, then the procedure's resfail body with all attributes "not following" (one zero word each).
/// </summary>
[Collection(ServerCollection.Name)]
public class Nfs3ResfailTests(ProtocolServer server)
{
    // RFC 1813 resfail bodies: void (GETATTR), post_op_attr (1 word), wcc_data (2), post_op_attr + wcc_data (LINK, 3),
    // two wcc_data (RENAME, 4).
    public static TheoryData<Nfs3Proc, int> FailWords() => new()
    {
        { Nfs3Proc.GETATTR, 0 }, { Nfs3Proc.SETATTR, 2 }, { Nfs3Proc.LOOKUP, 1 }, { Nfs3Proc.ACCESS, 1 },
        { Nfs3Proc.READLINK, 1 }, { Nfs3Proc.READ, 1 }, { Nfs3Proc.WRITE, 2 }, { Nfs3Proc.CREATE, 2 },
        { Nfs3Proc.MKDIR, 2 }, { Nfs3Proc.SYMLINK, 2 }, { Nfs3Proc.MKNOD, 2 }, { Nfs3Proc.REMOVE, 2 },
        { Nfs3Proc.RMDIR, 2 }, { Nfs3Proc.RENAME, 4 }, { Nfs3Proc.LINK, 3 }, { Nfs3Proc.READDIR, 1 },
        { Nfs3Proc.READDIRPLUS, 1 }, { Nfs3Proc.FSSTAT, 1 }, { Nfs3Proc.FSINFO, 1 }, { Nfs3Proc.PATHCONF, 1 },
        { Nfs3Proc.COMMIT, 2 },
    };

    private static byte[] Expected(NfsStat3 st, int words)
    {
        var b = new byte[4 + 4 * words];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, (uint)st);
        return b;
    }

    [Theory]
    [MemberData(nameof(FailWords))]
    public async Task Badhandle(Nfs3Proc proc, int words)
    {
        await using var c = await server.Fixture.ConnectAsync();
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)proc, w => w.WriteOpaque(new byte[FileHandleCodec.Size]));
        Assert.True(raw.IsSuccess);
        Assert.Equal(Expected(NfsStat3.NFS3ERR_BADHANDLE, words), raw.Results);
    }

    [Theory]
    [MemberData(nameof(FailWords))]
    public async Task Stale(Nfs3Proc proc, int words)
    {
        await using var c = await server.Fixture.ConnectAsync();
        // A well-formed handle of an export id that was never published.
        var fh = server.Fixture.Codec.Encode(new FileHandle(0xFFFF_FFF0, 1, 0));
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)proc, w => w.WriteOpaque(fh));
        Assert.Equal(Expected(NfsStat3.NFS3ERR_STALE, words), raw.Results);
    }

    [Theory]
    [MemberData(nameof(FailWords))]
    public async Task Rofs_only_for_procedures_that_write(Nfs3Proc proc, int words)
    {
        var (c, root, e) = await server.FreshAsync();
        await using var _c = c;
        var ro = server.Fixture.AddAlias(e, e.Path + "-ro", readOnly: true);
        var roRoot = await c.MountHandleAsync(ro.Path);
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)proc, w => w.WriteOpaque(roRoot));
        bool writes = proc is Nfs3Proc.SETATTR or Nfs3Proc.WRITE or Nfs3Proc.CREATE or Nfs3Proc.MKDIR or Nfs3Proc.SYMLINK
            or Nfs3Proc.MKNOD or Nfs3Proc.REMOVE or Nfs3Proc.RMDIR or Nfs3Proc.RENAME or Nfs3Proc.LINK;
        if (writes)
        {
            Assert.Equal(Expected(NfsStat3.NFS3ERR_ROFS, words), raw.Results);
        }
        else
        {
            // Not refused by the dispatcher: procedures whose only argument is the handle succeed; the others
            // reach their handler, which finds the rest of the arguments missing.
            // (READLINK of a directory is INVAL.)
            bool handleOnly = proc is Nfs3Proc.GETATTR or Nfs3Proc.FSSTAT or Nfs3Proc.FSINFO or Nfs3Proc.PATHCONF or Nfs3Proc.READLINK;
            Assert.Equal(handleOnly ? NfsGate.Rpc.AcceptStat.SUCCESS : NfsGate.Rpc.AcceptStat.GARBAGE_ARGS, raw.AcceptStat);
            if (handleOnly)
            {
                var expected = proc == Nfs3Proc.READLINK ? NfsStat3.NFS3ERR_INVAL : NfsStat3.NFS3_OK;
                Assert.Equal(expected, (NfsStat3)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(raw.Results));
            }
        }
    }
}
