namespace NfsGate.FileSystem;

/// <summary>
/// The sequential-access detector of one file (Linux <c>mm/readahead.c</c> in miniature). NFS has no open files,
/// so the READs of several readers of one file arrive mixed: the detector keeps up to <see cref="MaxStreams"/>
/// streams, each with the end of its last read and a read-ahead window. A read starting near a stream's end
/// continues it: the window doubles (one block at first, up to the cap) and the bytes ahead of the read that no
/// earlier read asked for are returned for prefetching. Any other read starts a new stream (replacing the least
/// recently used one) with no window: one read is not yet a pattern, so random reads cause no read-ahead.
/// </summary>
internal sealed class ReadStreams
{
    /// <summary>Four sequential readers of one file keep their windows; more share them by proximity or restart.</summary>
    public const int MaxStreams = 4;

    /// <summary>
    /// How far a read may start from its stream's end and still continue it. The Linux client keeps several 1 MiB
    /// READs in flight and they may arrive out of order, so "exactly at the end" would miss most continuations;
    /// one block (4 MiB) of slack covers four reordered 1 MiB READs either way.
    /// </summary>
    public const long Slack = NfsGate.Metadata.Layout.BlockSize;

    private struct Stream
    {
        public long LastEnd;   // highest end of a read of this stream
        public long Window;    // bytes read ahead of LastEnd; 0 until the stream is seen twice
        public long IssuedTo;  // prefetches were issued for everything below this
        public long Used;      // logical clock of the last read, for LRU replacement
        public long Id;        // tells a replaced stream from its successor in Retreat
    }

    private readonly Lock _lock = new();
    private readonly Stream[] _streams = new Stream[MaxStreams];
    private int _count;
    private long _clock, _nextId;

    /// <summary>Environment.TickCount64 of the last read: idle detectors are dropped.</summary>
    public long LastRead;

    /// <summary>
    /// Records a read of [<paramref name="offset"/>, <paramref name="end"/>) of a file of <paramref name="size"/>
    /// bytes. Returns the range to prefetch (empty when From ≥ To) and the stream that asked for it.
    /// </summary>
    public (long From, long To, long StreamId) OnRead(long offset, long end, long size, long maxWindow, long now)
    {
        lock (_lock)
        {
            Volatile.Write(ref LastRead, now);
            _clock++;
            for (int i = 0; i < _count; i++)
            {
                ref var s = ref _streams[i];
                if (offset < s.LastEnd - Slack || offset > s.LastEnd + Slack) continue;
                s.Used = _clock;
                s.LastEnd = Math.Max(s.LastEnd, end);
                s.Window = s.Window == 0 ? Math.Min(NfsGate.Metadata.Layout.BlockSize, maxWindow) : Math.Min(2 * s.Window, maxWindow);
                long from = Math.Max(s.IssuedTo, s.LastEnd);
                long to = Math.Min(s.LastEnd + s.Window, size);
                if (from >= to) return (0, 0, s.Id);
                s.IssuedTo = to;
                return (from, to, s.Id);
            }

            int slot;
            if (_count < MaxStreams) slot = _count++;
            else
            {
                slot = 0;
                for (int i = 1; i < MaxStreams; i++)
                    if (_streams[i].Used < _streams[slot].Used) slot = i;
            }
            _streams[slot] = new Stream { LastEnd = end, IssuedTo = end, Used = _clock, Id = ++_nextId };
            return (0, 0, _streams[slot].Id);
        }
    }

    /// <summary>
    /// The prefetches of stream <paramref name="streamId"/> were issued only below <paramref name="issuedTo"/>
    /// (the concurrency cap was reached): its next read asks for the rest again.
    /// </summary>
    public void Retreat(long streamId, long issuedTo)
    {
        lock (_lock)
        {
            for (int i = 0; i < _count; i++)
            {
                ref var s = ref _streams[i];
                if (s.Id == streamId) s.IssuedTo = Math.Min(s.IssuedTo, issuedTo);
            }
        }
    }
}
