using System.Buffers.Binary;
using NfsGate.Protocol.Qos;

namespace NfsGate.Protocol;

/// <summary>The dispatcher's QoS step: every call of an export with caps is admitted (maybe after a delay) or refused.</summary>
public sealed partial class Nfs3Program
{
    /// <summary>Per-export caps; null = none. Settable so a host (or a test) can attach it after construction.</summary>
    public QosEngine? Qos { get; set; }

    /// <summary>
    /// False when the call waited past the export's maximum delay: the reply is then NFS3ERR_JUKEBOX with the
    /// procedure's resfail body, written here, and the handler must not run. Waiting is an await, so the connection
    /// keeps reading and running other calls meanwhile (up to its in-flight cap).
    /// </summary>
    private ValueTask<bool> AdmitAsync(Nfs3ProcInfo info, Nfs3Request req, CancellationToken ct)
    {
        if (Qos is not { } qos) return new(true);
        var (kind, bytes) = Cost(info, req);
        var admit = qos.AdmitAsync(req.Export.Name, req.Call.Client.Address, kind, bytes, ct);
        if (admit.IsCompletedSuccessfully) return new(admit.Result || Refuse(info, req));
        return AwaitAdmitAsync(admit, info, req);
    }

    private static async ValueTask<bool> AwaitAdmitAsync(ValueTask<bool> admit, Nfs3ProcInfo info, Nfs3Request req) =>
        await admit.ConfigureAwait(false) || Refuse(info, req);

    private static bool Refuse(Nfs3ProcInfo info, Nfs3Request req)
    {
        req.Status(NfsStat3.NFS3ERR_JUKEBOX);
        Nfs3Xdr.WriteZeros(req.W, info.FailWords);
        return false;
    }

    /// <summary>
    /// READ and WRITE cost their count (args after the handle: offset3 offset, count3 count), at most rtmax / wtmax:
    /// that is all the server moves, and a client lying about count must not put the export into hours of debt.
    /// Short arguments cost nothing here: the handler answers GARBAGE_ARGS.
    /// </summary>
    private (QosKind Kind, long Bytes) Cost(Nfs3ProcInfo info, Nfs3Request req)
    {
        var kind = (info.Flags & Rpc.ProcFlags.DataRead) != 0 ? QosKind.Read
            : (info.Flags & Rpc.ProcFlags.DataWrite) != 0 ? QosKind.Write
            : QosKind.Other;
        if (kind == QosKind.Other) return (kind, 0);
        var args = req.Call.Args.Span;
        if (args.Length < req.ArgOffset + 12) return (kind, 0);
        long count = BinaryPrimitives.ReadUInt32BigEndian(args.Slice(req.ArgOffset + 8, 4));
        count = Math.Min(count, kind == QosKind.Read ? Options.MaxRead : Options.MaxWrite);
        return (kind, count);
    }
}
