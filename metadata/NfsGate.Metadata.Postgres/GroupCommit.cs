using System.Runtime.ExceptionServices;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Postgres;

/// <summary>One transaction body waiting for (or done with) its group; <see cref="Result"/>/<see cref="Error"/> once done.</summary>
internal sealed class GroupMember(Func<IKvTxn, object?> body)
{
    public readonly Func<IKvTxn, object?> Body = body;
    public object? Result;
    public ExceptionDispatchInfo? Error;
    // Set under the queue lock: the group holding this member has committed (or failed for good).
    public bool Done;
    // Set under the queue lock: the previous leader finished and this member, still queued, leads the next group.
    public bool Lead;
}

/// <summary>
/// Group commit by a rotating leader ("flat combining"). A caller queues its body; if no group is running it becomes
/// the leader: it takes everything queued (up to the cap) as one group, runs it with <c>runGroup</c> on its own
/// thread, and repeats until its own body is done. Then it hands leadership to the oldest body still queued and
/// returns. Everyone else sleeps until their group is done. Groups therefore run one at a time, in arrival order,
/// and a group is simply "whatever queued while the previous one was committing": no timer, no added latency when
/// the load is light (a lone caller leads a group of one at once).
/// <para>
/// Bodies of other callers run on the leader's thread. The seam already requires bodies to act only through the
/// transaction (they may be re-run), so the thread they run on is not observable to them.
/// </para>
/// </summary>
internal sealed class GroupCommit(Action<IReadOnlyList<GroupMember>> runGroup, int maxGroup)
{
    private readonly object _lock = new(); // Monitor.Wait needs a plain object, not System.Threading.Lock
    private readonly List<GroupMember> _queue = [];
    private bool _leading;
    private readonly int _max = Math.Max(1, maxGroup);

    /// <summary>Bodies waiting for a group (for tests that need a queue of a known length).</summary>
    public int Queued
    {
        get
        {
            lock (_lock) return _queue.Count;
        }
    }

    /// <summary>Returns when <paramref name="me"/>'s group has committed or failed (see its Result/Error).</summary>
    public void Run(GroupMember me)
    {
        lock (_lock)
        {
            _queue.Add(me);
            if (_leading)
            {
                while (!me.Done && !me.Lead) Monitor.Wait(_lock);
                if (me.Done) return;
            }
            _leading = true;
        }
        try
        {
            while (true)
            {
                List<GroupMember> group;
                lock (_lock)
                {
                    if (me.Done) break;
                    int n = Math.Min(_queue.Count, _max);
                    // Our own body may sit behind more than a full group: it is taken in a later round of this loop.
                    group = _queue.GetRange(0, n);
                    _queue.RemoveRange(0, n);
                }
                try
                {
                    runGroup(group);
                }
                catch (Exception e)
                {
                    // runGroup reports through the members; this is only for the unexpected (a bug, out of memory):
                    // nobody may wake up to a missing result.
                    var error = ExceptionDispatchInfo.Capture(e);
                    foreach (var m in group) m.Error ??= error;
                }
                finally
                {
                    lock (_lock)
                    {
                        foreach (var m in group) m.Done = true;
                        Monitor.PulseAll(_lock);
                    }
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                if (_queue.Count > 0)
                {
                    _queue[0].Lead = true;
                    Monitor.PulseAll(_lock);
                }
                else
                {
                    _leading = false;
                }
            }
        }
    }
}
