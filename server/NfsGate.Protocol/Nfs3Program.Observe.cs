using System.Buffers.Binary;
using System.Diagnostics;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// The observing wrapper around <see cref="Dispatch"/>: one place sees every NFSv3 call, whatever path its reply took
/// (bad handle, ROFS, a handler, a fault), so metrics and the slow-operation log need no line in any handler.
/// </summary>
public sealed partial class Nfs3Program
{
    /// <summary>Set once before the listener starts; null = no observation, and no cost beyond one null check.</summary>
    public INfs3Observer? Observer { get; set; }

    private ValueTask<AcceptStat> Observed(Nfs3ProcInfo info, RpcCall call, XdrWriter w, CancellationToken ct)
    {
        var observer = Observer;
        return observer is null ? Dispatch(info, call, w, ct) : ObservedAsync(observer, info, call, w, ct);
    }

    private async ValueTask<AcceptStat> ObservedAsync(INfs3Observer observer, Nfs3ProcInfo info, RpcCall call, XdrWriter w, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        int start = w.Length;
        var export = ExportOf(call.Args.Span);
        using var scope = observer.OnStarted(call, export, info.Proc);
        var stat = await Dispatch(info, call, w, ct).ConfigureAwait(false);
        if (stat == AcceptStat.SUCCESS && ReadReplyFacts(info.Proc, w.WrittenSpan[start..], out var status, out long read, out long written))
            observer.OnCompleted(call, status == NfsStat3.NFS3ERR_BADHANDLE ? null : export, info.Proc, status, Stopwatch.GetElapsedTime(started), read, written);
        return stat;
    }

    /// <summary>
    /// The export named by the call's first handle, for labels and log context only: the MAC is not checked here
    /// (Dispatch does that), so a forged handle can name an existing export but never invent one, and the label set
    /// stays bounded by the configured exports.
    /// </summary>
    private Export? ExportOf(ReadOnlySpan<byte> args)
    {
        // nfs_fh3: length, then FileHandleCodec's layout (version byte, export id big-endian, ...).
        if (args.Length < 4 + 5 || BinaryPrimitives.ReadUInt32BigEndian(args) != FileHandleCodec.Size || args[4] != FileHandleCodec.Version)
            return null;
        return _exports.ById(BinaryPrimitives.ReadUInt32BigEndian(args[5..]));
    }

    /// <summary>
    /// Reads the nfsstat3 and the data byte count back out of an encoded reply. READ3resok is post_op_attr, count, ...;
    /// WRITE3resok ends with count, stable_how and an 8-byte verifier, so its count sits 16 bytes from the end.
    /// </summary>
    internal static bool ReadReplyFacts(Nfs3Proc proc, ReadOnlySpan<byte> reply, out NfsStat3 status, out long bytesRead, out long bytesWritten)
    {
        bytesRead = bytesWritten = 0;
        status = default;
        if (reply.Length < 4) return false;
        status = (NfsStat3)BinaryPrimitives.ReadUInt32BigEndian(reply);
        if (status != NfsStat3.NFS3_OK) return true;
        if (proc == Nfs3Proc.READ && reply.Length >= 8)
        {
            int countAt = BinaryPrimitives.ReadUInt32BigEndian(reply[4..]) != 0 ? 4 + Nfs3Xdr.PostOpAttrSize : 8;
            if (reply.Length >= countAt + 4) bytesRead = BinaryPrimitives.ReadUInt32BigEndian(reply[countAt..]);
        }
        else if (proc == Nfs3Proc.WRITE && reply.Length >= 4 + 16)
        {
            bytesWritten = BinaryPrimitives.ReadUInt32BigEndian(reply[^16..]);
        }
        return true;
    }
}
