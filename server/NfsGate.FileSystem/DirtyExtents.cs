using System.Buffers;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// One generation of a file's unflushed writes: sorted, non-overlapping extents in pooled arrays. No extent crosses
/// a <see cref="Layout.BlockSize"/>-aligned boundary, so a buffer never exceeds 4 MiB (appends stay amortised O(n):
/// the pool hands out power-of-two arrays, so growing by copying doubles) and a fully dirty block is easy to spot.
/// Touching extents within a block are merged. Not thread-safe: the owner holds its lock.
/// </summary>
internal sealed class DirtyExtents : IUploadSource
{
    internal sealed class Extent
    {
        public long Off;
        public int Len;
        public byte[] Buf = [];
        public long End => Off + Len;
        public Span<byte> Data => Buf.AsSpan(0, Len);
    }

    private const long BlockSize = Layout.BlockSize;
    private readonly List<Extent> _extents = [];

    /// <summary>Dirty bytes held (what the global buffer budget counts).</summary>
    public long Bytes { get; private set; }
    public bool IsEmpty => _extents.Count == 0;
    public IReadOnlyList<Extent> Extents => _extents;

    /// <summary>Copies <paramref name="data"/> in at <paramref name="off"/>; returns how much <see cref="Bytes"/> grew.</summary>
    /// <param name="fullBlock">Set when the write left some block entirely dirty (worth flushing now).</param>
    public long Write(long off, ReadOnlySpan<byte> data, out bool fullBlock)
    {
        long before = Bytes;
        fullBlock = false;
        while (!data.IsEmpty)
        {
            long blockEnd = (off / BlockSize + 1) * BlockSize;
            int n = (int)Math.Min(data.Length, blockEnd - off);
            if (WriteInBlock(off, data[..n])) fullBlock = true;
            off += n;
            data = data[n..];
        }
        return Bytes - before;
    }

    private bool WriteInBlock(long off, ReadOnlySpan<byte> data)
    {
        long end = off + data.Length;
        long blockStart = off / BlockSize * BlockSize, blockEnd = blockStart + BlockSize;
        int i = FirstEndingAtOrAfter(off);
        if (i < _extents.Count && _extents[i].Off < blockStart) i++; // ends exactly at our block's start: other block
        int j = i;
        while (j < _extents.Count && _extents[j].Off <= end && _extents[j].Off < blockEnd) j++;

        if (i == j)
        {
            var e = new Extent { Off = off, Len = data.Length, Buf = ArrayPool<byte>.Shared.Rent(data.Length) };
            data.CopyTo(e.Buf);
            _extents.Insert(i, e);
            Bytes += data.Length;
            return e.Len == BlockSize;
        }

        long newStart = Math.Min(off, _extents[i].Off), newEnd = Math.Max(end, _extents[j - 1].End);
        int newLen = (int)(newEnd - newStart);
        long oldBytes = 0;
        for (int k = i; k < j; k++) oldBytes += _extents[k].Len;

        var first = _extents[i];
        Extent target;
        if (first.Off == newStart && first.Buf.Length >= newLen)
        {
            target = first; // grow in place: the common sequential-append case
            for (int k = i + 1; k < j; k++)
            {
                _extents[k].Data.CopyTo(target.Buf.AsSpan((int)(_extents[k].Off - newStart)));
                ArrayPool<byte>.Shared.Return(_extents[k].Buf);
            }
        }
        else
        {
            target = new Extent { Off = newStart, Buf = ArrayPool<byte>.Shared.Rent(newLen) };
            for (int k = i; k < j; k++)
            {
                _extents[k].Data.CopyTo(target.Buf.AsSpan((int)(_extents[k].Off - newStart)));
                ArrayPool<byte>.Shared.Return(_extents[k].Buf);
            }
        }
        target.Off = newStart;
        target.Len = newLen;
        data.CopyTo(target.Buf.AsSpan((int)(off - newStart)));
        _extents.RemoveRange(i, j - i);
        _extents.Insert(i, target);
        Bytes += newLen - oldBytes;
        return newLen == BlockSize;
    }

    /// <summary>Index of the first extent whose end is ≥ <paramref name="off"/> (extents are sorted and disjoint).</summary>
    private int FirstEndingAtOrAfter(long off)
    {
        int lo = 0, hi = _extents.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_extents[mid].End < off) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Drops everything at or beyond <paramref name="size"/> (a truncate); returns the bytes dropped.</summary>
    public long Trim(long size)
    {
        long before = Bytes;
        for (int k = _extents.Count - 1; k >= 0; k--)
        {
            var e = _extents[k];
            if (e.End <= size) break;
            if (e.Off >= size)
            {
                ArrayPool<byte>.Shared.Return(e.Buf);
                _extents.RemoveAt(k);
                Bytes -= e.Len;
            }
            else
            {
                Bytes -= e.End - size;
                e.Len = (int)(size - e.Off);
            }
        }
        return before - Bytes;
    }

    /// <summary>Copies of the buffered pieces that overlap [off, end), for overlaying onto a read.</summary>
    public void CollectOverlaps(long off, long end, List<(long Off, byte[] Data)> into)
    {
        for (int k = FirstEndingAtOrAfter(off); k < _extents.Count && _extents[k].Off < end; k++)
        {
            var e = _extents[k];
            long a = Math.Max(off, e.Off), b = Math.Min(end, e.End);
            if (a < b) into.Add((a, e.Buf.AsSpan((int)(a - e.Off), (int)(b - a)).ToArray()));
        }
    }

    /// <summary>
    /// The bytes [off, off+length), which must be fully dirty, without copying when one extent holds them all;
    /// otherwise copied into a rented array returned in <paramref name="rented"/> (the caller returns it).
    /// </summary>
    public ReadOnlyMemory<byte> GetRange(long off, int length, out byte[]? rented)
    {
        rented = null;
        int k = FirstEndingAtOrAfter(off + 1);
        var e = _extents[k];
        if (e.Off <= off && off + length <= e.End) return e.Buf.AsMemory((int)(off - e.Off), length);
        rented = ArrayPool<byte>.Shared.Rent(length);
        long pos = off, end = off + length;
        for (; pos < end; k++)
        {
            e = _extents[k];
            if (e.Off > pos) throw new InvalidOperationException($"range [{off}, {end}) is not fully buffered at {pos}");
            int n = (int)(Math.Min(end, e.End) - pos);
            e.Buf.AsSpan((int)(pos - e.Off), n).CopyTo(rented.AsSpan((int)(pos - off)));
            pos += n;
        }
        return rented.AsMemory(0, length);
    }

    public IReadOnlyList<(long Off, long End)> Runs()
    {
        var runs = new List<(long Off, long End)>(_extents.Count);
        foreach (var e in _extents) runs.Add((e.Off, e.End));
        return runs;
    }

    /// <summary>The generation is detached while it is uploaded: nobody mutates it, so reading it unlocked is safe.</summary>
    public ValueTask<Lease> GetRangeAsync(long off, int length, CancellationToken ct)
    {
        var data = GetRange(off, length, out var rented);
        return ValueTask.FromResult(new Lease(data, rented));
    }

    /// <summary>Lays <paramref name="newer"/> on top of this generation (newer bytes win) and empties it.</summary>
    public void MergeFrom(DirtyExtents newer)
    {
        foreach (var e in newer._extents) Write(e.Off, e.Data, out _);
        newer.Release();
    }

    /// <summary>Returns every array to the pool; the generation is empty afterwards.</summary>
    public void Release()
    {
        foreach (var e in _extents) ArrayPool<byte>.Shared.Return(e.Buf);
        _extents.Clear();
        Bytes = 0;
    }
}
