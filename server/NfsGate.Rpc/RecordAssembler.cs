using System.Buffers;

namespace NfsGate.Rpc;

/// <summary>
/// Reassembles record-marked fragments into one pooled buffer per record. It consumes every byte it is given
/// (partial fragment headers are kept inside), so a pipe reader can always advance to the end of what it read and
/// the pipe never has to hold a whole fragment (which would stall on the pipe's pause threshold).
/// </summary>
public sealed class RecordAssembler : IDisposable
{
    private readonly int _maxRecordSize;
    private byte[] _buf = [];
    private int _len;             // record bytes assembled so far
    private int _fragRemaining;   // body bytes still to come for the current fragment
    private bool _inBody;
    private bool _last;
    private uint _header;         // header bytes collected so far, big-endian
    private int _headerHave;
    private bool _started;

    public RecordAssembler(int maxRecordSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecordSize);
        _maxRecordSize = maxRecordSize;
    }

    /// <summary>True while a record has begun (at least one header byte) but is not complete.</summary>
    public bool InProgress => _started;

    /// <summary><see cref="Environment.TickCount64"/> when the record in progress began.</summary>
    public long RecordStartedAt { get; private set; }

    /// <summary>
    /// Consumes bytes from <paramref name="input"/> until one record completes (the rest stays in <paramref name="input"/>),
    /// the input runs out (<see cref="RecordStatus.NeedMore"/>, input empty) or a fragment would exceed the cap.
    /// </summary>
    public RecordStatus TryRead(ref ReadOnlySequence<byte> input, out RpcRecord record)
    {
        record = default;
        Span<byte> hb = stackalloc byte[RecordMarking.HeaderSize];
        while (true)
        {
            if (!_inBody)
            {
                if (input.IsEmpty) return RecordStatus.NeedMore;
                if (!_started) { _started = true; RecordStartedAt = Environment.TickCount64; }
                // Header bytes may arrive split across reads (and a sequence may hold empty segments), so copy through
                // ReadOnlySequence.CopyTo rather than indexing FirstSpan.
                int want = Math.Min(RecordMarking.HeaderSize - _headerHave, (int)Math.Min(input.Length, RecordMarking.HeaderSize));
                input.Slice(0, want).CopyTo(hb);
                for (int i = 0; i < want; i++) _header = _header << 8 | hb[i];
                _headerHave += want;
                input = input.Slice(want);
                if (_headerHave < RecordMarking.HeaderSize) return RecordStatus.NeedMore;
                _headerHave = 0;
                _last = (_header & RecordMarking.LastFragmentBit) != 0;
                uint fragLen = _header & ~RecordMarking.LastFragmentBit;
                _header = 0;
                // Checked before renting: a hostile header cannot make us allocate past the cap.
                if ((ulong)_len + fragLen > (ulong)_maxRecordSize) return RecordStatus.TooLarge;
                EnsureCapacity(_len + (int)fragLen);
                _fragRemaining = (int)fragLen;
                _inBody = true;
            }

            if (_fragRemaining > 0)
            {
                int n = (int)Math.Min(input.Length, _fragRemaining);
                input.Slice(0, n).CopyTo(_buf.AsSpan(_len));
                _len += n;
                _fragRemaining -= n;
                input = input.Slice(n);
                if (_fragRemaining > 0) return RecordStatus.NeedMore;
            }
            _inBody = false;

            if (_last)
            {
                record = new RpcRecord(_buf, _len);
                _buf = [];
                _len = 0;
                _started = false;
                return RecordStatus.Complete;
            }
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (_buf.Length >= needed) return;
        // The first fragment is rented at its announced size (the common single-fragment record is copied once);
        // later fragments grow by doubling so a many-fragment record costs O(n) copies in total.
        int size = _buf.Length == 0 ? needed : Math.Min(Math.Max(needed, _buf.Length * 2), Math.Max(needed, _maxRecordSize));
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        if (_len > 0) _buf.AsSpan(0, _len).CopyTo(next);
        if (_buf.Length > 0) ArrayPool<byte>.Shared.Return(_buf);
        _buf = next;
    }

    public void Dispose()
    {
        if (_buf.Length > 0) ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
        _len = 0;
        _started = false;
    }
}
