using System.Net;
using NfsGate.Metadata;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>
/// GETATTR and LOOKUP are most of what a burst of jobs sends, and each allocation per call is GC work on the hot path
/// (issue 7: zero on both). The handlers run here as the connection loop runs them, on RocksDB, with an AUTH_SYS
/// credential under the default root-squash rule; bytes allocated by this thread are counted over 100 calls after a
/// warm-up. Counting bytes is exact and independent of the machine's speed, unlike a time.
/// </summary>
[Collection(ServerCollection.Name)]
public class AllocationTests(ProtocolServer server)
{
    [Fact]
    public void Getattr_and_lookup_allocate_nothing_per_call()
    {
        var f = server.Fixture;
        var e = f.AddExport();
        var nfs = f.Nfs;
        // One object per AUTH_SYS body, as the RPC layer's credential cache hands them out.
        var cred = new RpcCredential(AuthFlavor.AUTH_SYS, 0, 0, [0, 100], "job-host");
        e.Volume.GetAttr(INamespace.RootInode, out var rootAttr);
        byte[] root = f.Codec.Encode(new FileHandle(e.Id, INamespace.RootInode, rootAttr.Generation));
        using var w = new XdrWriter(64 * 1024);

        var created = Run(Call(nfs, cred, Nfs3Proc.CREATE, a => { a.WriteOpaque(root); a.WriteString("f"); a.WriteUInt32(0); for (int i = 0; i < 6; i++) a.WriteUInt32(0); }), w);
        var r = new XdrReader(created.Span);
        Assert.Equal(0u, r.ReadUInt32());
        Assert.True(r.ReadBool());
        byte[] file = r.ReadOpaque(Nfs3Const.NFS3_FHSIZE).ToArray();

        var getattr = Call(nfs, cred, Nfs3Proc.GETATTR, a => a.WriteOpaque(file));
        var lookup = Call(nfs, cred, Nfs3Proc.LOOKUP, a => { a.WriteOpaque(root); a.WriteString("f"); });
        foreach (var call in new[] { getattr, lookup })
        {
            for (int i = 0; i < 200; i++) Run(call, w); // JIT, caches (handle MACs, the mapped credential)
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) Run(call, w);
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(bytes == 0, $"{call.Procedure.Name}: {bytes} B in 100 calls");
            Assert.Equal(0u, new XdrReader(Run(call, w).Span).ReadUInt32()); // and they answered NFS3_OK
        }
    }

    private static RpcCall Call(Nfs3Program nfs, RpcCredential cred, Nfs3Proc proc, Action<XdrWriter> args)
    {
        using var w = new XdrWriter();
        args(w);
        return new RpcCall
        {
            Xid = 1, Program = Nfs3Const.PROGRAM, Version = Nfs3Const.VERSION,
            Procedure = nfs.GetProcedure(Nfs3Const.VERSION, (uint)proc)!,
            Credential = cred,
            Client = new IPEndPoint(IPAddress.Loopback, 700), ConnectionId = 1,
            Args = w.WrittenSpan.ToArray(),
        };
    }

    /// <summary>Runs a handler that must answer at once (metadata calls do), and returns the reply's bytes as a view.</summary>
    private static ReadOnlyMemory<byte> Run(RpcCall call, XdrWriter w)
    {
        w.Truncate(0);
        var t = call.Procedure.Handler(call, w, CancellationToken.None);
        // No assertion helpers here: they would allocate inside the measured loop.
        if (!t.IsCompletedSuccessfully) throw new InvalidOperationException($"{call.Procedure.Name} did not complete synchronously");
        if (t.Result != AcceptStat.SUCCESS) throw new InvalidOperationException($"{call.Procedure.Name}: {t.Result}");
        return w.WrittenMemory;
    }
}
