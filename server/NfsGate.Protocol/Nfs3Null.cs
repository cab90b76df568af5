using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   Procedure 0: NULL - Do nothing

   void NFSPROC3_NULL(void) = 0;
*/
internal static class Nfs3Null
{
    public static ValueTask<AcceptStat> Handle(RpcCall call, XdrWriter w, CancellationToken ct) => ValueTask.FromResult(AcceptStat.SUCCESS);
}
