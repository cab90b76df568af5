using NfsGate.Rpc;

namespace NfsGate.Protocol;

/*
   RFC 1833 section 3: the port mapper, version 2.

   const PMAP_PORT = 111;

   struct mapping {
      unsigned int prog;
      unsigned int vers;
      unsigned int prot;
      unsigned int port;
   };

   const IPPROTO_TCP = 6;
   const IPPROTO_UDP = 17;

   struct *pmaplist {
      mapping map;
      pmaplist next;
   };

   program PMAP_PROG {
      version PMAP_VERS {
         void         PMAPPROC_NULL(void)         = 0;
         bool         PMAPPROC_SET(mapping)       = 1;
         bool         PMAPPROC_UNSET(mapping)     = 2;
         unsigned int PMAPPROC_GETPORT(mapping)   = 3;
         pmaplist     PMAPPROC_DUMP(void)         = 4;
         call_result  PMAPPROC_CALLIT(call_args)  = 5;
      } = 2;
   } = 100000;
*/
/// <summary>
/// A fixed port mapper: it answers for the programs this process serves (NFS and MOUNT on one TCP port) and
/// refuses registrations. CALLIT is not offered (PROC_UNAVAIL): it forwards calls and is a known amplifier.
/// </summary>
public sealed class PortmapProgram : OneVersionProgram
{
    public const uint PROGRAM = 100000;
    public const uint VERSION = 2;
    public const uint IPPROTO_TCP = 6;
    public const uint IPPROTO_UDP = 17;

    private readonly (uint Prog, uint Vers, uint Prot, uint Port)[] _map;

    public PortmapProgram(int nfsPort, int portmapPort) : base(PROGRAM, VERSION, "portmapper")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nfsPort);
        ArgumentOutOfRangeException.ThrowIfNegative(portmapPort);
        _map =
        [
            (PROGRAM, VERSION, IPPROTO_TCP, (uint)portmapPort),
            (Nfs3Const.PROGRAM, Nfs3Const.VERSION, IPPROTO_TCP, (uint)nfsPort),
            (MountProgram.PROGRAM, 1, IPPROTO_TCP, (uint)nfsPort),
            (MountProgram.PROGRAM, 2, IPPROTO_TCP, (uint)nfsPort),
            (MountProgram.PROGRAM, 3, IPPROTO_TCP, (uint)nfsPort),
        ];
        Serve(
            new RpcProcedure(1, "SET", Refuse),
            new RpcProcedure(2, "UNSET", Refuse),
            new RpcProcedure(3, "GETPORT", GetPort),
            new RpcProcedure(4, "DUMP", Dump));
    }

    /// <summary>The port for (prog, vers, prot), or 0 when not served (RFC 1833: zero means not registered).</summary>
    public uint Lookup(uint prog, uint vers, uint prot)
    {
        foreach (var m in _map)
        {
            if (m.Prog == prog && m.Vers == vers && m.Prot == prot) return m.Port;
        }
        return 0;
    }

    private static ValueTask<AcceptStat> Refuse(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        var r = new XdrReader(call.Args.Span);
        r.Skip(16); // the mapping must be present even though it is ignored
        w.WriteBool(false);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> GetPort(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        var r = new XdrReader(call.Args.Span);
        uint prog = r.ReadUInt32(), vers = r.ReadUInt32(), prot = r.ReadUInt32();
        r.ReadUInt32(); // port: ignored
        w.WriteUInt32(Lookup(prog, vers, prot));
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    private ValueTask<AcceptStat> Dump(RpcCall call, XdrWriter w, CancellationToken ct)
    {
        foreach (var m in _map)
        {
            w.WriteBool(true);
            w.WriteUInt32(m.Prog);
            w.WriteUInt32(m.Vers);
            w.WriteUInt32(m.Prot);
            w.WriteUInt32(m.Port);
        }
        w.WriteBool(false);
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }
}
