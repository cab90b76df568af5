using System.Diagnostics;
using System.Text.Json;

namespace NfsGate.Server.Hosting;

/// <summary>
/// Live counters of one warm-up, updated by its workers and read (as a JSON line) by whoever reports progress.
/// "Hit" means the block is in the cache afterwards (fetch, check) or was evicted (evict).
/// </summary>
public sealed class WarmupProgress(WarmupMode mode)
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly Lock _errorLock = new();
    long _filesTotal, _bytesTotal, _filesDone, _bytesDone, _blocksTotal, _blocksDone, _blockBytesDone, _hitBlocks, _hitBytes, _hitFiles, _fetched, _errors;
    string? _firstError;

    public WarmupMode Mode => mode;
    public long FilesTotal => Interlocked.Read(ref _filesTotal);
    public long BytesTotal => Interlocked.Read(ref _bytesTotal);
    public long FilesDone => Interlocked.Read(ref _filesDone);
    public long BytesDone => Interlocked.Read(ref _bytesDone);
    public long BlocksTotal => Interlocked.Read(ref _blocksTotal);
    public long BlocksDone => Interlocked.Read(ref _blocksDone);
    /// <summary>Bytes of the blocks handled (what the rate is measured in).</summary>
    public long BlockBytesDone => Interlocked.Read(ref _blockBytesDone);
    public long HitBlocks => Interlocked.Read(ref _hitBlocks);
    public long HitBytes => Interlocked.Read(ref _hitBytes);
    /// <summary>Files whose blocks are all hits (an empty file counts: nothing of it is missing).</summary>
    public long HitFiles => Interlocked.Read(ref _hitFiles);
    /// <summary>Blocks fetched from the object store (fetch mode: those not cached before).</summary>
    public long Fetched => Interlocked.Read(ref _fetched);
    public long Errors => Interlocked.Read(ref _errors);
    public string? FirstError { get { lock (_errorLock) return _firstError; } }

    internal void FileFound(ulong size)
    {
        Interlocked.Increment(ref _filesTotal);
        Interlocked.Add(ref _bytesTotal, (long)Math.Min(size, long.MaxValue));
    }

    internal void BlocksFound(int count) => Interlocked.Add(ref _blocksTotal, count);

    internal void FileDone(ulong size, bool allCached)
    {
        Interlocked.Increment(ref _filesDone);
        Interlocked.Add(ref _bytesDone, (long)Math.Min(size, long.MaxValue));
        if (allCached) Interlocked.Increment(ref _hitFiles);
    }

    internal void BlockDone(int length, bool hit)
    {
        Interlocked.Increment(ref _blocksDone);
        Interlocked.Add(ref _blockBytesDone, length);
        if (!hit) return;
        Interlocked.Increment(ref _hitBlocks);
        Interlocked.Add(ref _hitBytes, length);
    }

    internal void BlockFetched() => Interlocked.Increment(ref _fetched);

    internal void Failed(string key, string message)
    {
        Interlocked.Increment(ref _errors);
        lock (_errorLock) _firstError ??= $"{key}: {message}";
    }

    /// <summary>One progress object as a single JSON line (no trailing newline).</summary>
    public byte[] ToJsonLine(bool done, string? fatalError = null)
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        string hit = mode == WarmupMode.Evict ? "evicted" : "cached";
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("mode", mode.ToString().ToLowerInvariant());
            w.WriteNumber("files", FilesDone);
            w.WriteNumber("filesTotal", FilesTotal);
            w.WriteNumber("bytes", BytesDone);
            w.WriteNumber("bytesTotal", BytesTotal);
            w.WriteNumber("blocks", BlocksDone);
            w.WriteNumber("blocksTotal", BlocksTotal);
            w.WriteNumber("blockBytes", BlockBytesDone);
            w.WriteNumber($"{hit}Blocks", HitBlocks);
            w.WriteNumber($"{hit}Bytes", HitBytes);
            w.WriteNumber($"{hit}Files", HitFiles);
            if (mode == WarmupMode.Fetch) w.WriteNumber("fetchedBlocks", Fetched);
            w.WriteNumber("errors", Errors);
            if (FirstError is { } first) w.WriteString("firstError", first);
            if (fatalError is not null) w.WriteString("error", fatalError);
            w.WriteNumber("seconds", Math.Round(seconds, 3));
            w.WriteNumber("bytesPerSecond", seconds > 0 ? (long)(BlockBytesDone / seconds) : 0);
            w.WriteBoolean("done", done);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
