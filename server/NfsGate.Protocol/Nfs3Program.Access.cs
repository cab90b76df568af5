using NfsGate.Rpc;

namespace NfsGate.Protocol;

public sealed partial class Nfs3Program
{
    /// <summary>
    /// The client rules, re-checked on every call for the export the handle names (not the one the client mounted):
    /// a handle obtained elsewhere, or kept from before a rule changed, grants nothing. No access is NFS3ERR_ACCES
    /// whatever the handle's state, so a refused client cannot even probe which handles are stale. A read-only
    /// client sees the export's read-only view, so ROFS and ACCESS follow from the one ReadOnly flag.
    /// </summary>
    private static ClientDecision CheckClient(ref Export? export, RpcCall call, ref NfsStat3 st)
    {
        if (export is null) return ClientDecision.Denied;
        var d = export.Decide(call.Client);
        if (d.Access == ExportAccess.None) st = NfsStat3.NFS3ERR_ACCES;
        else if (d.Access == ExportAccess.ReadOnly) export = export.ReadOnlyView;
        return d;
    }
}
