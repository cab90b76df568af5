using System.Collections.Concurrent;
using System.Net;
using NfsGate.Rpc;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// The RPC layer's view (every program: NFS, MOUNT, portmapper): calls and failed calls by accept_stat, duplicate-request-cache
/// replays, and calls refused before reaching a procedure. Label values come from fixed tables (program names,
/// procedure names of the registered programs, enum names), so the series count is bounded.
/// </summary>
internal sealed class RpcMetrics : IRpcObserver
{
    readonly Counter _calls;
    readonly Counter _errors;
    readonly Counter _replays;
    readonly Counter _refused;
    readonly ConcurrentDictionary<RpcProcedure, Counter.Child> _byProcedure = new(ReferenceEqualityComparer.Instance);

    public RpcMetrics(IMetricFactory f)
    {
        _calls = f.NewCounter("nfsgate_rpc_requests_total", "RPC calls that reached a procedure, by program and procedure.", "program", "procedure");
        _errors = f.NewCounter("nfsgate_rpc_errors_total", "RPC calls that reached a procedure but did not succeed, by program and accept_stat (GARBAGE_ARGS, SYSTEM_ERR).",
            "program", "accept_stat");
        _replays = f.NewCounter("nfsgate_rpc_replays_total", "Retransmitted non-idempotent calls answered from the duplicate-request cache.", "program");
        _refused = f.NewCounter("nfsgate_rpc_refused_total", "RPC calls refused before reaching a procedure, by reason.", "reason");
        // Present from the first scrape, so rates over them are 0 rather than missing.
        foreach (var program in new[] { "nfs", "mount" })
        {
            _errors.WithLabels(program, StatName(AcceptStat.GARBAGE_ARGS)).Publish();
            _errors.WithLabels(program, StatName(AcceptStat.SYSTEM_ERR)).Publish();
        }
        _refused.WithLabels("PROG_UNAVAIL").Publish();
        _replays.WithLabels("nfs").Publish();
    }

    public void OnCompleted(RpcCall call, AcceptStat stat, TimeSpan elapsed, int replyBytes, bool fromCache)
    {
        string program = ProgramName(call.Program);
        // Procedures are the programs' own table rows, so the row itself keys the cached child: no label array per call.
        (_byProcedure.TryGetValue(call.Procedure, out var calls) ? calls
            : _byProcedure.GetOrAdd(call.Procedure, static (p, a) => a.Calls.WithLabels(a.Program, p.Name), (Calls: _calls, Program: program))).Inc();
        if (stat != AcceptStat.SUCCESS) _errors.WithLabels(program, StatName(stat)).Inc();
        if (fromCache) _replays.WithLabels(program).Inc();
    }

    public void OnRefused(IPEndPoint client, uint program, uint version, uint procedure, string reason)
        // Reasons are fixed strings and enum names chosen by the dispatcher, never text from the wire.
        => _refused.WithLabels(reason).Inc();

    static string ProgramName(uint program) => program switch
    {
        100003 => "nfs",
        100005 => "mount",
        100000 => "portmap",
        _ => "other",
    };

    static string StatName(AcceptStat stat) => stat switch
    {
        AcceptStat.SUCCESS => "SUCCESS",
        AcceptStat.GARBAGE_ARGS => "GARBAGE_ARGS",
        AcceptStat.SYSTEM_ERR => "SYSTEM_ERR",
        AcceptStat.PROC_UNAVAIL => "PROC_UNAVAIL",
        AcceptStat.PROG_MISMATCH => "PROG_MISMATCH",
        AcceptStat.PROG_UNAVAIL => "PROG_UNAVAIL",
        _ => "other",
    };
}
