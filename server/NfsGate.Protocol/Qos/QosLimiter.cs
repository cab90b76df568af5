using System.Net;

namespace NfsGate.Protocol.Qos;

/// <summary>Counters of one export's limiter since start (or since its policy was first set).</summary>
public readonly record struct QosStats(long Admitted, long Delayed, long Rejected, double DelayedSeconds, int Waiting);

/// <summary>
/// One export's admission control. A call starts at once when nobody is waiting and the export's buckets and its
/// client's buckets are above zero. Otherwise it joins its client's queue, and a timer serves the queues
/// round-robin whenever tokens return: each turn the first client in the ring whose oldest call can start runs that
/// call and moves to the back. So clients sharing the export's cap get equal turns however many calls each keeps
/// in flight (FIFO would give the share to whoever queues most). Each client has one queue per kind of call (read,
/// write, other), so a GETATTR is not stuck behind its own client's READs waiting for read bandwidth. A call still waiting at its deadline (now +
/// max delay) is refused, and the caller answers NFS3ERR_JUKEBOX. Thread-safe: one lock per export.
/// </summary>
internal sealed class QosLimiter : IDisposable
{
    /// <summary>Client states kept at most; past this, idle ones are dropped (their buckets are full anyway).</summary>
    internal const int MaxClients = 4096;
    /// <summary>Idle time after which a client's state may be dropped: far above any burst, so its buckets are full.</summary>
    const double IdleSeconds = 300;

    sealed class ClientState
    {
        public ClientState(IPAddress? address)
        {
            Address = address;
            Lanes = [new Lane(this, QosKind.Other), new Lane(this, QosKind.Read), new Lane(this, QosKind.Write)];
        }

        public readonly IPAddress? Address;
        public readonly Lane[] Lanes;
        public QosBuckets? Own;
        public double LastSeen;
        public bool Idle => Lanes[0].Queue.Count == 0 && Lanes[1].Queue.Count == 0 && Lanes[2].Queue.Count == 0;
    }

    /// <summary>One client's queue for one kind of call.</summary>
    sealed class Lane(ClientState client, QosKind kind)
    {
        public readonly ClientState Client = client;
        public readonly QosKind Kind = kind;
        public readonly LinkedList<Waiter> Queue = new();
        public LinkedListNode<Lane>? RingNode;
    }

    sealed class Waiter(QosLimiter limiter, Lane lane, long bytes, double enqueued, double deadline)
    {
        public readonly QosLimiter Limiter = limiter;
        public readonly Lane Lane = lane;
        public readonly long Bytes = bytes;
        public readonly double Enqueued = enqueued;
        public readonly double Deadline = deadline;
        public readonly TaskCompletionSource<bool> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node;
    }

    readonly Lock _lock = new();
    readonly TimeProvider _time;
    readonly long _origin;
    readonly ITimer _timer;
    readonly QosBuckets _export = new();
    readonly Dictionary<IPAddress, ClientState> _clients = new();
    /// <summary>Shares the export cap, without per-client caps, for addresses beyond <see cref="MaxClients"/>.</summary>
    readonly ClientState _overflow = new(null);
    /// <summary>Lanes with waiting calls, in turn order.</summary>
    readonly LinkedList<Lane> _ring = new();
    readonly int[] _waitingByKind = new int[3];
    QosPolicy _policy = QosPolicy.None;
    double _share = 1;
    int _waiting;
    bool _disposed;
    long _admitted, _delayed, _rejected;
    double _delayedSeconds;

    public QosLimiter(TimeProvider time)
    {
        _time = time;
        _origin = time.GetTimestamp();
        _timer = time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    double Now() => _time.GetElapsedTime(_origin).TotalSeconds;

    public QosStats Stats
    {
        get { lock (_lock) return new QosStats(_admitted, _delayed, _rejected, _delayedSeconds, _waiting); }
    }

    /// <summary>
    /// Applies a new policy (and this gateway's share of the caps) at once: buckets keep their level, clamped to
    /// the new burst, and waiting calls are re-examined under the new caps.
    /// </summary>
    public void Configure(QosPolicy policy, double share)
    {
        lock (_lock)
        {
            double now = Now();
            _policy = policy;
            _share = share;
            _export.Configure(policy.Export, policy.BurstOf(policy.Export), share, now);
            foreach (var c in _clients.Values) ApplyRule(c, now);
            Pump(now);
        }
    }

    void ApplyRule(ClientState c, double now)
    {
        var rule = c.Address is null ? null : _policy.RuleFor(c.Address);
        if (rule is null || rule.Rates.IsEmpty)
        {
            c.Own = null;
            return;
        }
        c.Own ??= new QosBuckets();
        c.Own.Configure(rule.Rates, _policy.BurstOf(rule.Rates), _share, now);
    }

    /// <summary>
    /// True when the call may run (at once, or after waiting its turn); false when it waited past the maximum delay.
    /// Synchronous when nothing is waiting and tokens are there: the common uncongested path allocates nothing.
    /// </summary>
    public ValueTask<bool> AdmitAsync(IPAddress client, QosKind kind, long bytes, CancellationToken ct)
    {
        Waiter w;
        lock (_lock)
        {
            double now = Now();
            if (_disposed) return new(true);
            var c = ClientFor(client, now);
            // Calls of the same kind already waiting go first (they compete for the same buckets); another kind may
            // pass them when its own buckets allow.
            if (_waitingByKind[(int)kind] == 0 && CanStart(c, kind, now))
            {
                Take(c, kind, bytes, now);
                _admitted++;
                return new(true);
            }
            var lane = c.Lanes[(int)kind];
            w = new Waiter(this, lane, bytes, now, now + _policy.EffectiveMaxDelay.TotalSeconds);
            w.Node = lane.Queue.AddLast(w);
            lane.RingNode ??= _ring.AddLast(lane);
            _waiting++;
            _waitingByKind[(int)kind]++;
            _delayed++;
            Pump(now);
        }
        return WaitAsync(w, ct);
    }

    static ValueTask<bool> WaitAsync(Waiter w, CancellationToken ct) =>
        ct.CanBeCanceled ? WaitCancellableAsync(w, ct) : new ValueTask<bool>(w.Done.Task);

    static async ValueTask<bool> WaitCancellableAsync(Waiter w, CancellationToken ct)
    {
        await using var reg = ct.Register(() => w.Limiter.Cancel(w, ct)).ConfigureAwait(false);
        return await w.Done.Task.ConfigureAwait(false);
    }

    void Cancel(Waiter w, CancellationToken ct)
    {
        lock (_lock)
        {
            if (w.Node?.List is null) return;
            Remove(w);
        }
        w.Done.TrySetCanceled(ct);
    }

    void Remove(Waiter w)
    {
        var lane = w.Lane;
        lane.Queue.Remove(w.Node!);
        w.Node = null;
        _waiting--;
        _waitingByKind[(int)lane.Kind]--;
        if (lane.Queue.Count == 0 && lane.RingNode is { } node)
        {
            _ring.Remove(node);
            lane.RingNode = null;
        }
    }

    ClientState ClientFor(IPAddress address, double now)
    {
        if (!_clients.TryGetValue(address, out var c))
        {
            if (_clients.Count >= MaxClients) Sweep(now);
            if (_clients.Count >= MaxClients)
            {
                c = _overflow;
            }
            else
            {
                c = new ClientState(address);
                ApplyRule(c, now);
                _clients.Add(address, c);
            }
        }
        c.LastSeen = now;
        return c;
    }

    void Sweep(double now)
    {
        List<IPAddress>? idle = null;
        foreach (var (address, c) in _clients)
            if (c.Idle && now - c.LastSeen > IdleSeconds) (idle ??= []).Add(address);
        if (idle is null) return;
        foreach (var address in idle) _clients.Remove(address);
    }

    bool CanStart(ClientState c, QosKind kind, double now) =>
        _export.CanStart(kind, now) && (c.Own?.CanStart(kind, now) ?? true);

    void Take(ClientState c, QosKind kind, long bytes, double now)
    {
        _export.Take(kind, bytes, now);
        c.Own?.Take(kind, bytes, now);
    }

    double SecondsUntilStart(ClientState c, QosKind kind, double now) =>
        Math.Max(_export.SecondsUntilStart(kind, now), c.Own?.SecondsUntilStart(kind, now) ?? 0);

    void OnTimer()
    {
        lock (_lock)
        {
            if (!_disposed) Pump(Now());
        }
    }

    /// <summary>Serves whoever can start, in turn; refuses calls past their deadline; sets the timer for the next event.</summary>
    void Pump(double now)
    {
        bool served = true;
        while (served && _ring.First is not null)
        {
            served = false;
            for (var node = _ring.First; node is not null; node = node.Next)
            {
                var lane = node.Value;
                var w = lane.Queue.First!.Value;
                if (!CanStart(lane.Client, lane.Kind, now)) continue;
                Remove(w);
                Take(lane.Client, lane.Kind, w.Bytes, now);
                _admitted++;
                _delayedSeconds += now - w.Enqueued;
                // A lane with more waiting goes to the back of the ring: the others get their turn first.
                if (lane.Queue.Count > 0)
                {
                    _ring.Remove(lane.RingNode!);
                    lane.RingNode = _ring.AddLast(lane);
                }
                w.Done.TrySetResult(true);
                served = true;
                break;
            }
        }

        // Deadlines grow along each queue (enqueue time + the same max delay), so only the oldest calls can be late.
        for (var node = _ring.First; node is not null;)
        {
            var next = node.Next;
            var lane = node.Value;
            while (lane.Queue.First?.Value is { } w && w.Deadline <= now)
            {
                Remove(w);
                _rejected++;
                w.Done.TrySetResult(false);
            }
            node = next;
        }

        if (_ring.First is null)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        double wait = double.MaxValue;
        foreach (var lane in _ring)
        {
            var w = lane.Queue.First!.Value;
            wait = Math.Min(wait, Math.Min(SecondsUntilStart(lane.Client, lane.Kind, now), w.Deadline - now));
        }
        // Rounded up, plus a millisecond, so the timer never fires a hair before the level is above zero and
        // spins: a 1 MiB call under a 20 MiB/s cap waits 50 ms, so 1 ms is 2% at worst and is not lost (the bucket
        // keeps refilling while the call waits).
        _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, wait) * 1000) + 1), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Lets every waiting call run (shutdown must not strand them) and stops the timer.</summary>
    public void Dispose()
    {
        List<Waiter> release = [];
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var lane in _ring)
                release.AddRange(lane.Queue);
            foreach (var w in release) Remove(w);
            _timer.Dispose();
        }
        foreach (var w in release) w.Done.TrySetResult(true);
    }
}
