using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// An ONC RPC program that serves one version (MOUNT v3, portmapper v2), with its procedure table. Their procedures
/// are numbered from 0 without gaps, so the number indexes the table; another version or a number past the end is
/// PROC_UNAVAIL (null). Procedure 0 is NULL in every ONC RPC program — no arguments, no results, a ping — so the table
/// adds it. Shared so the two programs cannot drift apart in how a call finds its procedure.
/// </summary>
public abstract class OneVersionProgram(uint program, uint version, string name) : IRpcProgram
{
    private RpcProcedure[] _procs = [];

    public uint Program => program;
    public uint LowVersion => version;
    public uint HighVersion => version;
    public string Name => name;

    public RpcProcedure? GetProcedure(uint version, uint procedure) =>
        version == LowVersion && procedure < (uint)_procs.Length ? _procs[procedure] : null;

    /// <summary>Sets the table: procedures 1, 2, ... in order (NULL is added as 0).</summary>
    protected void Serve(params RpcProcedure[] procedures)
    {
        RpcProcedure[] procs = [new RpcProcedure(0, "NULL", (_, _, _) => ValueTask.FromResult(AcceptStat.SUCCESS)), .. procedures];
        for (int i = 0; i < procs.Length; i++)
        {
            // The number is the index: a gap or a misordered entry would answer calls with the wrong procedure.
            if (procs[i].Number != i) throw new ArgumentException($"procedure {procs[i].Name} is number {procs[i].Number}, listed at {i}", nameof(procedures));
        }
        _procs = procs;
    }
}
