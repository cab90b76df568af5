using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// One NFSv3 call after the dispatcher has resolved its first file handle: every procedure but NULL starts with
/// one, so the export, the inode and its current attributes are known before the handler runs.
/// A struct, so a call that completes synchronously (GETATTR, LOOKUP, ACCESS...) puts nothing on the heap for it.
/// </summary>
internal readonly struct Nfs3Request
{
    public required Nfs3Program Program { get; init; }
    public required RpcCall Call { get; init; }
    public required XdrWriter W { get; init; }
    /// <summary>The export's rule for this client (squash, anonymous ids).</summary>
    public required ClientDecision Client { get; init; }
    /// <summary>The caller as permission checks see it, mapped on use: GETATTR never needs it.</summary>
    public Credential Cred => Client.Map(Call.Credential);
    public required Export Export { get; init; }
    public required ulong Ino { get; init; }
    /// <summary>Attributes of the first handle's object, read while checking the handle is not stale.</summary>
    public required Attr Attr { get; init; }
    /// <summary>Offset in <see cref="RpcCall.Args"/> just after the first handle.</summary>
    public required int ArgOffset { get; init; }

    public IFsVolume Vol => Export.Volume;
    public uint Fsid => Export.Id;
    public Nfs3Options Options => Program.Options;

    /// <summary>A reader over the arguments that follow the first handle.</summary>
    public XdrReader Args() => new(Call.Args.Span[ArgOffset..]);

    public void Status(NfsStat3 s) => W.WriteUInt32((uint)s);
    public void Status(FsStatus s) => W.WriteUInt32((uint)Nfs3Status.From(s));

    public void PostOp(Attr? a) => Nfs3Xdr.WritePostOpAttr(W, a, Fsid);
    public void Wcc(WccAttr? before, Attr? after) => Nfs3Xdr.WriteWcc(W, before, after, Fsid);

    /// <summary>post_op_fh3 for an object of this export.</summary>
    public void PostOpFh(Attr? a)
    {
        if (a is { } v)
        {
            W.WriteBool(true);
            Program.WriteHandle(W, Export.Id, v);
        }
        else
        {
            W.WriteBool(false);
        }
    }

    /// <summary>
    /// Resolves a second handle (RENAME's target directory, LINK's directory). A handle of another export is
    /// NFS3ERR_XDEV: each export is its own file system.
    /// </summary>
    public NfsStat3 ResolveSecond(ReadOnlySpan<byte> raw, out ulong ino)
    {
        var st = Program.Resolve(raw, out var exp, out var h, out _);
        ino = h.Inode;
        if (st != NfsStat3.NFS3_OK) return st;
        return exp!.Id == Export.Id ? NfsStat3.NFS3_OK : NfsStat3.NFS3ERR_XDEV;
    }
}
