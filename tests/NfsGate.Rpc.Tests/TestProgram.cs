using NfsGate.Rpc;

namespace NfsGate.Rpc.Tests;

/// <summary>
/// A test-only program (number 0x2000_0042, versions 2..4) whose procedures exercise each dispatcher rule.
/// </summary>
public sealed class TestProgram : IRpcProgram
{
    public const uint Number = 0x2000_0042;
    public const uint Null = 0, Echo = 1, ThrowXdrSync = 2, ThrowXdrAsync = 3, ThrowOther = 4, Gated = 5,
        Counter = 6, WhoAmI = 7, WritesThenFails = 8, Sleep = 9, WhereQuick = 10, WhereNotQuick = 11;

    private readonly RpcProcedure?[] _procs;
    private int _counter;
    private int _gatedRuns;

    /// <summary>Released by the test to let <see cref="Gated"/> calls finish.</summary>
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Completed when the first <see cref="Gated"/> call has started.</summary>
    public TaskCompletionSource GatedStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int CounterRuns => Volatile.Read(ref _counter);
    public int GatedRuns => Volatile.Read(ref _gatedRuns);

    public TestProgram()
    {
        _procs = new RpcProcedure?[12];
        _procs[Null] = new(Null, "NULL", (c, w, ct) => ValueTask.FromResult(AcceptStat.SUCCESS), ProcFlags.Quick);
        _procs[Echo] = new(Echo, "ECHO", (c, w, ct) =>
        {
            var r = new XdrReader(c.Args.Span);
            var data = r.ReadOpaque(1 << 20);
            w.WriteOpaque(data);
            return ValueTask.FromResult(AcceptStat.SUCCESS);
        });
        _procs[ThrowXdrSync] = new(ThrowXdrSync, "THROW_XDR_SYNC", (c, w, ct) => throw new XdrException("bad args"));
        _procs[ThrowXdrAsync] = new(ThrowXdrAsync, "THROW_XDR_ASYNC", async (c, w, ct) =>
        {
            await Task.Yield();
            throw new XdrException("bad args later");
        });
        _procs[ThrowOther] = new(ThrowOther, "THROW_OTHER", (c, w, ct) => throw new InvalidOperationException("boom"));
        _procs[Gated] = new(Gated, "GATED", async (c, w, ct) =>
        {
            Interlocked.Increment(ref _gatedRuns);
            GatedStarted.TrySetResult();
            await Gate.Task.WaitAsync(ct);
            w.WriteUInt32(0xCAFE);
            return AcceptStat.SUCCESS;
        }, ProcFlags.NonIdempotent);
        _procs[Counter] = new(Counter, "COUNTER", (c, w, ct) =>
        {
            var r = new XdrReader(c.Args.Span);
            if (r.Remaining > 0) r.ReadOpaque(1024);
            w.WriteUInt32((uint)Interlocked.Increment(ref _counter));
            return ValueTask.FromResult(AcceptStat.SUCCESS);
        }, ProcFlags.NonIdempotent | ProcFlags.MakesWrite);
        _procs[WhoAmI] = new(WhoAmI, "WHOAMI", (c, w, ct) =>
        {
            w.WriteUInt32((uint)c.Credential.Flavor);
            w.WriteUInt32(c.Credential.Uid);
            w.WriteUInt32(c.Credential.Gid);
            w.WriteUInt32((uint)c.Credential.Gids.Length);
            foreach (var g in c.Credential.Gids) w.WriteUInt32(g);
            w.WriteString(c.Credential.MachineName);
            w.WriteString(c.Client.Address.ToString());
            return ValueTask.FromResult(AcceptStat.SUCCESS);
        });
        _procs[WritesThenFails] = new(WritesThenFails, "WRITES_THEN_FAILS", (c, w, ct) =>
        {
            w.WriteUInt32(0xDEAD);
            return ValueTask.FromResult(AcceptStat.GARBAGE_ARGS);
        });
        _procs[Sleep] = new(Sleep, "SLEEP", async (c, w, ct) =>
        {
            var r = new XdrReader(c.Args.Span);
            int ms = r.ReadInt32();
            await Task.Delay(ms, ct);
            w.WriteInt32(ms);
            return AcceptStat.SUCCESS;
        });
        // Where the handler ran: 1 on a thread-pool thread, then the thread's name (RpcConnection.Blocking.cs).
        _procs[WhereQuick] = new(WhereQuick, "WHERE_QUICK", (c, w, ct) => Where(w), ProcFlags.Quick);
        _procs[WhereNotQuick] = new(WhereNotQuick, "WHERE_NOT_QUICK", (c, w, ct) => Where(w));
    }

    private static ValueTask<AcceptStat> Where(XdrWriter w)
    {
        w.WriteUInt32(Thread.CurrentThread.IsThreadPoolThread ? 1u : 0u);
        w.WriteString(Thread.CurrentThread.Name ?? "");
        return ValueTask.FromResult(AcceptStat.SUCCESS);
    }

    /// <summary>Decodes a WHERE_* result: true if the call ran on a thread-pool thread.</summary>
    public static bool RanOnPool(ReadOnlySpan<byte> results) => new XdrReader(results).ReadUInt32() == 1;

    public uint Program => Number;
    public uint LowVersion => 2;
    public uint HighVersion => 4;
    public string Name => "test";

    public RpcProcedure? GetProcedure(uint version, uint procedure)
        => procedure < _procs.Length ? _procs[procedure] : null;

    public static byte[] Opaque(ReadOnlySpan<byte> data)
    {
        using var w = new XdrWriter();
        w.WriteOpaque(data);
        return w.WrittenSpan.ToArray();
    }

    public static byte[] Int(int v)
    {
        using var w = new XdrWriter();
        w.WriteInt32(v);
        return w.WrittenSpan.ToArray();
    }
}

/// <summary>Records what the dispatcher reports.</summary>
public sealed class RecordingObserver : IRpcObserver
{
    public readonly List<(uint Xid, string Proc, AcceptStat Stat, int Bytes, bool FromCache)> Completed = [];
    public readonly List<string> Refused = [];

    public void OnCompleted(RpcCall call, AcceptStat stat, TimeSpan elapsed, int replyBytes, bool fromCache)
    {
        lock (Completed) Completed.Add((call.Xid, call.Procedure.Name, stat, replyBytes, fromCache));
    }

    public void OnRefused(System.Net.IPEndPoint client, uint program, uint version, uint procedure, string reason)
    {
        lock (Refused) Refused.Add(reason);
    }
}
