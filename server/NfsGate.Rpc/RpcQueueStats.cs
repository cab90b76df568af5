using System.Diagnostics;

namespace NfsGate.Rpc;

/// <summary>
/// Calls handed to the thread pool, and how long they waited there before a thread took them. Under load on few cores
/// this wait can be a large part of a call's latency, and it is not in the per-procedure duration, which starts at
/// dispatch: 0.7–2 ms per 4 KiB FILE_SYNC write at 16 in flight on 2 cores (perf/README.md, "Largest gaps", item 7).
/// Calls answered on a connection's receive thread never queue and are not counted.
/// </summary>
public sealed class RpcQueueStats
{
    private long _calls, _ticks;

    /// <summary>Calls that went through the thread pool's queue.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Their total wait in it, in seconds.</summary>
    public double Seconds => Interlocked.Read(ref _ticks) / (double)Stopwatch.Frequency;

    internal void Add(long queuedAt)
    {
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - queuedAt);
        Interlocked.Increment(ref _calls);
    }
}
