using System.Collections.Frozen;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NfsGate.Rpc;

/// <summary>
/// Turns one record into one reply: decodes the call header, finds the program/version/procedure, runs the handler,
/// and applies the cross-cutting rules once (duplicate-request cache, exception mapping, observer) instead of in
/// every handler. Transport-free: <see cref="RpcConnection"/> feeds it records and frames what it returns.
/// </summary>
public sealed partial class RpcDispatcher
{
    private readonly ILogger _log;
    private readonly IRpcObserver? _observer;
    private readonly DuplicateRequestCache? _drc;
    private readonly object _registerLock = new();
    // Copy-on-write so the per-call lookup takes no lock.
    private FrozenDictionary<uint, IRpcProgram> _programs = FrozenDictionary<uint, IRpcProgram>.Empty;

    /// <param name="drc">Null disables the duplicate-request cache.</param>
    public RpcDispatcher(ILogger<RpcDispatcher>? logger = null, IRpcObserver? observer = null, DuplicateRequestCache? drc = null)
    {
        _log = (ILogger?)logger ?? NullLogger.Instance;
        _observer = observer;
        _drc = drc;
    }

    public DuplicateRequestCache? DuplicateRequestCache => _drc;

    /// <summary>Adds a program; a program number may be registered once.</summary>
    public void Register(IRpcProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (_registerLock)
        {
            if (_programs.ContainsKey(program.Program))
                throw new InvalidOperationException($"program {program.Program} already registered");
            var next = new Dictionary<uint, IRpcProgram>(_programs) { [program.Program] = program };
            _programs = next.ToFrozenDictionary();
        }
    }

    /// <summary>
    /// Processes one record (an rpc_msg without record marking) from <paramref name="client"/> and returns the reply
    /// message, or <see cref="RpcReply.None"/> when nothing is to be answered (not a call, or the connection is closing).
    /// <paramref name="record"/> must stay valid until the returned task completes.
    /// </summary>
    public async ValueTask<RpcReply> DispatchAsync(ReadOnlyMemory<byte> record, IPEndPoint client, long connectionId, CancellationToken ct)
    {
        var status = CallHeader.Parse(record.Span, out var h);
        switch (status)
        {
            case CallHeaderStatus.Drop:
                return RpcReply.None;
            case CallHeaderStatus.RpcMismatch:
                Refused(client, h, "RPC_MISMATCH");
                return Denied(h.Xid, RejectStat.RPC_MISMATCH, 2, 2);
            case CallHeaderStatus.AuthError:
                Refused(client, h, h.AuthError.ToString());
                return Denied(h.Xid, RejectStat.AUTH_ERROR, (uint)h.AuthError, 0);
            case CallHeaderStatus.Garbage:
                Refused(client, h, "GARBAGE_ARGS (header)");
                return Accepted(h.Xid, AcceptStat.GARBAGE_ARGS);
        }

        if (!_programs.TryGetValue(h.Program, out var program))
        {
            Refused(client, h, "PROG_UNAVAIL");
            return Accepted(h.Xid, AcceptStat.PROG_UNAVAIL);
        }
        if (h.Version < program.LowVersion || h.Version > program.HighVersion)
        {
            Refused(client, h, "PROG_MISMATCH");
            var w = StartAccepted(h.Xid, AcceptStat.PROG_MISMATCH);
            w.WriteUInt32(program.LowVersion);
            w.WriteUInt32(program.HighVersion);
            return RpcReply.FromWriter(w);
        }
        var proc = program.GetProcedure(h.Version, h.Procedure);
        if (proc is null)
        {
            Refused(client, h, "PROC_UNAVAIL");
            return Accepted(h.Xid, AcceptStat.PROC_UNAVAIL);
        }

        var call = new RpcCall
        {
            Xid = h.Xid,
            Program = h.Program,
            Version = h.Version,
            Procedure = proc,
            Credential = h.Credential,
            Client = client,
            ConnectionId = connectionId,
            Args = record[h.ArgsOffset..],
        };

        if (_drc is not null && (proc.Flags & ProcFlags.NonIdempotent) != 0)
            return await ExecuteCachedAsync(_drc, call, program, ct).ConfigureAwait(false);
        var (reply, _) = await ExecuteAsync(call, program, ct).ConfigureAwait(false);
        return reply;
    }

    /// <summary>
    /// True when <paramref name="record"/> calls a procedure flagged <see cref="ProcFlags.Quick"/>, read from the
    /// fixed words of the call header (xid, mtype, rpcvers, prog, vers, proc) without decoding it. Anything odd is
    /// false and takes the pool path, where <see cref="DispatchAsync"/> gives it its proper reply.
    /// </summary>
    public bool IsQuick(ReadOnlySpan<byte> record)
    {
        if (record.Length < 24) return false;
        static uint At(ReadOnlySpan<byte> r, int i) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(r[i..]);
        if (At(record, 4) != (uint)MsgType.CALL || At(record, 8) != 2) return false;
        uint version = At(record, 16);
        return _programs.TryGetValue(At(record, 12), out var program)
               && version >= program.LowVersion && version <= program.HighVersion
               && program.GetProcedure(version, At(record, 20)) is { } proc
               && (proc.Flags & ProcFlags.Quick) != 0;
    }

    private async ValueTask<RpcReply> ExecuteCachedAsync(DuplicateRequestCache drc, RpcCall call, IRpcProgram program, CancellationToken ct)
    {
        var key = DuplicateRequestCache.MakeKey(call.Client.Address, call.Xid, call.Program, call.Version, call.Procedure.Number, call.Args.Span);
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            var entry = drc.Begin(key, out bool isNew);
            if (!isNew)
            {
                var cached = await entry.Task.WaitAsync(ct).ConfigureAwait(false);
                if (cached is null) continue; // the original gave no reply: run it ourselves
                _observer?.OnCompleted(call, ReadAcceptStat(cached), Stopwatch.GetElapsedTime(start), cached.Length, fromCache: true);
                return RpcReply.FromBytes(cached);
            }

            RpcReply reply = RpcReply.None;
            try
            {
                (reply, _) = await ExecuteAsync(call, program, ct).ConfigureAwait(false);
            }
            finally
            {
                if (reply.IsEmpty) drc.Abandon(key, entry);
            }
            if (reply.IsEmpty) return reply;
            // The cache keeps its own copy: the writer's pooled buffer goes back to the pool after sending.
            var bytes = reply.Body.ToArray();
            reply.Dispose();
            DuplicateRequestCache.Complete(entry, bytes);
            return RpcReply.FromBytes(bytes);
        }
    }

    private async ValueTask<(RpcReply Reply, AcceptStat Stat)> ExecuteAsync(RpcCall call, IRpcProgram program, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        var w = StartAccepted(call.Xid, AcceptStat.SUCCESS);
        int statOffset = w.Length - 4;
        AcceptStat stat;
        try
        {
            var pending = call.Procedure.Handler(call, w, ct);
            stat = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
        }
        catch (XdrException)
        {
            stat = AcceptStat.GARBAGE_ARGS;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The connection is closing: nobody to answer.
            w.Dispose();
            return (RpcReply.None, AcceptStat.SYSTEM_ERR);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_log, ex, program.Name, call.Procedure.Name, call.Xid, call.Client);
            stat = AcceptStat.SYSTEM_ERR;
        }

        if (stat != AcceptStat.SUCCESS)
        {
            // Whatever the handler wrote is dropped: a failed accept_stat carries no results (except the mismatch range).
            w.Truncate(statOffset);
            w.WriteUInt32((uint)stat);
            if (stat == AcceptStat.PROG_MISMATCH)
            {
                w.WriteUInt32(program.LowVersion);
                w.WriteUInt32(program.HighVersion);
            }
        }
        _observer?.OnCompleted(call, stat, Stopwatch.GetElapsedTime(start), w.Length, fromCache: false);
        return (RpcReply.FromWriter(w), stat);
    }

    // reply_body: xid, REPLY, MSG_ACCEPTED, verf = { AUTH_NONE, <> }, accept_stat.
    private static XdrWriter StartAccepted(uint xid, AcceptStat stat)
    {
        var w = new XdrWriter();
        w.WriteUInt32(xid);
        w.WriteUInt32((uint)MsgType.REPLY);
        w.WriteUInt32((uint)ReplyStat.MSG_ACCEPTED);
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE);
        w.WriteUInt32(0);
        w.WriteUInt32((uint)stat);
        return w;
    }

    private static RpcReply Accepted(uint xid, AcceptStat stat) => RpcReply.FromWriter(StartAccepted(xid, stat));

    // rejected_reply: RPC_MISMATCH carries mismatch_info { low, high }; AUTH_ERROR carries one auth_stat.
    private static RpcReply Denied(uint xid, RejectStat reject, uint a, uint b)
    {
        var w = new XdrWriter(64);
        w.WriteUInt32(xid);
        w.WriteUInt32((uint)MsgType.REPLY);
        w.WriteUInt32((uint)ReplyStat.MSG_DENIED);
        w.WriteUInt32((uint)reject);
        w.WriteUInt32(a);
        if (reject == RejectStat.RPC_MISMATCH) w.WriteUInt32(b);
        return RpcReply.FromWriter(w);
    }

    // Offset 20 = xid, mtype, reply_stat, verf flavor, verf length (empty body): the accept_stat of our own accepted replies.
    private static AcceptStat ReadAcceptStat(byte[] reply)
        => reply.Length >= 24 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(8)) == (uint)ReplyStat.MSG_ACCEPTED
            ? (AcceptStat)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(20))
            : AcceptStat.SYSTEM_ERR;

    private void Refused(IPEndPoint client, in CallHeader h, string reason)
        => _observer?.OnRefused(client, h.Program, h.Version, h.Procedure, reason);

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "RPC handler {Program}.{Procedure} failed (xid {Xid:x8}, client {Client})")]
    private static partial void LogHandlerFailed(ILogger logger, Exception ex, string program, string procedure, uint xid, IPEndPoint client);
}
