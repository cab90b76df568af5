using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.FileSystem.Writeback;

/// <summary>
/// One journal record of the writeback staging area: a file's dirty runs at one COMMIT, in one file named by a
/// sequence number. Written to a temp name, fsync'ed, renamed, and the directory fsync'ed: a record that exists under
/// its final name is complete and durable, and a crash midway leaves only a temp file (never acknowledged).
/// <code>
/// header (32 B, little-endian): magic "NGS1", volume:u32, inode:u64, seq:u64, runs:u32, reserved:u32
/// runs × (offset:i64, length:i64), sorted, disjoint, touching runs merged
/// the runs' bytes, concatenated
/// </code>
/// </summary>
internal sealed class StagedRecord : IUploadSource, IDisposable
{
    public const string Suffix = ".stg";
    public const string TempSuffix = ".tmp";
    private const uint Magic = 0x3153474E; // "NGS1"
    private const int HeaderLength = 32;
    private const int RunLength = 16;
    /// <summary>A record holds one file's buffer generation (at most the write-buffer cap); 1M runs is far beyond it.</summary>
    private const int MaxRuns = 1 << 20;

    private readonly (long Off, long End, long FilePos)[] _runs;
    private readonly SafeFileHandle _handle;

    public string Path { get; }
    public uint Volume { get; }
    public ulong Ino { get; }
    public ulong Seq { get; }
    /// <summary>Length of the record file (what the staging cap counts).</summary>
    public long FileBytes { get; }
    /// <summary>Its slices are in the metadata; only deleting the file is left (it failed once).</summary>
    public bool Committed { get; set; }

    private StagedRecord(string path, uint volume, ulong ino, ulong seq, (long, long, long)[] runs, SafeFileHandle handle, long fileBytes)
    {
        Path = path;
        Volume = volume;
        Ino = ino;
        Seq = seq;
        _runs = runs;
        _handle = handle;
        FileBytes = fileBytes;
    }

    public static string FileName(ulong seq) => seq.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + Suffix;

    /// <summary>Bytes a record of <paramref name="gen"/> takes on disk (for reserving staging space first).</summary>
    public static long SizeOf(DirtyExtents gen) => HeaderLength + (long)RunLength * gen.Extents.Count + gen.Bytes;

    /// <summary>Writes <paramref name="gen"/> (detached, so nobody mutates it meanwhile) durably as record <paramref name="seq"/>.</summary>
    public static StagedRecord Write(string dir, uint volume, ulong ino, ulong seq, DirtyExtents gen)
    {
        var runs = new List<(long Off, long End, long FilePos)>();
        var parts = new List<ReadOnlyMemory<byte>>();
        foreach (var e in gen.Extents)
        {
            if (runs.Count > 0 && runs[^1].End == e.Off) runs[^1] = runs[^1] with { End = e.End };
            else runs.Add((e.Off, e.End, 0));
        }
        long pos = HeaderLength + (long)RunLength * runs.Count;
        var head = new byte[pos];
        BinaryPrimitives.WriteUInt32LittleEndian(head, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), volume);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(8), ino);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(16), seq);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(24), (uint)runs.Count);
        for (int i = 0; i < runs.Count; i++)
        {
            var p = head.AsSpan(HeaderLength + i * RunLength);
            BinaryPrimitives.WriteInt64LittleEndian(p, runs[i].Off);
            BinaryPrimitives.WriteInt64LittleEndian(p[8..], runs[i].End - runs[i].Off);
            runs[i] = runs[i] with { FilePos = pos };
            pos += runs[i].End - runs[i].Off;
        }
        parts.Add(head);
        foreach (var e in gen.Extents) parts.Add(e.Buf.AsMemory(0, e.Len));

        string path = System.IO.Path.Combine(dir, FileName(seq));
        string tmp = path + TempSuffix;
        try
        {
            using (var w = File.OpenHandle(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, pos))
            {
                RandomAccess.Write(w, parts, 0);
                RandomAccess.FlushToDisk(w);
            }
            File.Move(tmp, path);
            NfsGate.Data.DirSync.Fsync(dir);
        }
        catch
        {
            // Also the final name: a record the client was not told about must not be replayed later, on top of
            // newer data.
            try { File.Delete(tmp); File.Delete(path); } catch (IOException) { }
            throw;
        }
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StagedRecord(path, volume, ino, seq, [.. runs], handle, pos);
    }

    /// <summary>Opens a record left by an earlier run; null (with the reason) when it is not a well-formed record.</summary>
    public static StagedRecord? Open(string path, out string? problem)
    {
        problem = null;
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> head = stackalloc byte[HeaderLength];
            if (length < HeaderLength || RandomAccess.Read(handle, head, 0) != HeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(head) != Magic)
            {
                problem = "not a staging record";
                handle.Dispose();
                return null;
            }
            uint volume = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
            ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(head[8..]);
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(head[16..]);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(head[24..]);
            // Check the run count against the cap and the file length BEFORE allocating for it.
            if (count > MaxRuns || HeaderLength + (long)count * RunLength > length)
            {
                problem = $"{count} runs do not fit the file";
                handle.Dispose();
                return null;
            }
            var table = new byte[count * RunLength];
            RandomAccess.Read(handle, table, HeaderLength);
            var runs = new (long, long, long)[count];
            long pos = HeaderLength + table.Length, last = -1;
            for (int i = 0; i < count; i++)
            {
                long off = BinaryPrimitives.ReadInt64LittleEndian(table.AsSpan(i * RunLength));
                long len = BinaryPrimitives.ReadInt64LittleEndian(table.AsSpan(i * RunLength + 8));
                if (off <= last || len <= 0 || off > (long)NfsGate.Metadata.Layout.MaxFileSize || len > length)
                {
                    problem = $"run {i} ({off}, +{len}) is out of order or out of range";
                    handle.Dispose();
                    return null;
                }
                runs[i] = (off, off + len, pos);
                pos += len;
                last = off + len - 1;
            }
            if (pos != length)
            {
                problem = $"runs need {pos} bytes, the file has {length}";
                handle.Dispose();
                return null;
            }
            return new StagedRecord(path, volume, ino, seq, runs, handle, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public IReadOnlyList<(long Off, long End)> Runs()
    {
        var r = new (long Off, long End)[_runs.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (_runs[i].Off, _runs[i].End);
        return r;
    }

    public async ValueTask<Lease> GetRangeAsync(long off, int length, CancellationToken ct)
    {
        int k = RunAt(off);
        if (k < 0 || off + length > _runs[k].End) throw new InvalidOperationException($"range [{off}, +{length}) is not inside one staged run");
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            long at = _runs[k].FilePos + (off - _runs[k].Off);
            for (int got = 0; got < length;)
            {
                int n = await RandomAccess.ReadAsync(_handle, rented.AsMemory(got, length - got), at + got, ct).ConfigureAwait(false);
                if (n == 0) throw new IOException($"{Path}: ended early at {at + got}");
                got += n;
            }
            return new Lease(rented.AsMemory(0, length), rented);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
    }

    /// <summary>Copies of the staged bytes overlapping [off, end), for overlaying onto a read.</summary>
    public void CollectOverlaps(long off, long end, List<(long Off, byte[] Data)> into)
    {
        foreach (var r in _runs)
        {
            long a = Math.Max(off, r.Off), b = Math.Min(end, r.End);
            if (a >= b) continue;
            var data = new byte[b - a];
            for (int got = 0; got < data.Length;)
            {
                int n = RandomAccess.Read(_handle, data.AsSpan(got), r.FilePos + (a - r.Off) + got);
                if (n == 0) throw new IOException($"{Path}: ended early");
                got += n;
            }
            into.Add((a, data));
        }
    }

    private int RunAt(long off)
    {
        int lo = 0, hi = _runs.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_runs[mid].End <= off) lo = mid + 1;
            else if (_runs[mid].Off > off) hi = mid - 1;
            else return mid;
        }
        return -1;
    }

    /// <summary>Removes the record (its data is in the object store now, or has no file to go to).</summary>
    public void Delete()
    {
        File.Delete(Path);
        // Fsync'ed: once the record is gone, newer flushes of the file go straight to the object store, and a record
        // coming back after a power loss would be replayed on top of them.
        NfsGate.Data.DirSync.Fsync(System.IO.Path.GetDirectoryName(Path)!);
        Dispose(); // last: until the delete succeeded the record stays readable
    }

    public void Dispose() => _handle.Dispose();
}
