using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data;

/// <summary>
/// Objects as files under a root directory; the key is the relative path ('/'-separated).
/// <para>
/// Put is atomic and durable: the bytes go to a temp file in the destination directory, which is fsync'ed and then
/// renamed over the final name, and the directory is fsync'ed so the rename itself survives a power loss. A crash
/// therefore leaves either the old state or the whole new object, never a prefix of it; a leftover temp file is
/// invisible (temp names use a reserved prefix that keys may not use) and <see cref="RemoveTempFiles"/> sweeps them.
/// </para>
/// <para>I/O goes through <see cref="RandomAccess"/> on a <see cref="SafeFileHandle"/>: no FileStream buffer per call.</para>
/// <para>
/// With <c>directWrites</c> (set when a block cache sits in front, which keeps the hot copy) a Put writes with
/// O_DIRECT (<see cref="DirectWrites"/>): the durable copy skips the page cache, so each block is copied into memory
/// once, by the cache, not twice. Where the file system refuses O_DIRECT, Puts are written buffered.
/// </para>
/// </summary>
public sealed class LocalDirObjectStore : IObjectStore, IDisposable
{
    /// <summary>Names starting with this are temp files of an unfinished Put; no key segment may start with it.</summary>
    public const string TempPrefix = ".tmp.";

    private readonly string _root;
    // Directories whose entry is known to be on disk (created and parent fsync'ed by this process): skips the
    // parent fsync on every Put into an existing directory.
    private readonly ConcurrentDictionary<string, bool> _durableDirs = new(StringComparer.Ordinal);

    private readonly DirectWrites? _direct;

    public LocalDirObjectStore(string root, bool directWrites = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (directWrites) _direct = new DirectWrites();
        _root = Path.GetFullPath(root).TrimEnd('/');
        Directory.CreateDirectory(_root);
        _durableDirs[_root] = true;
    }

    public string Root => _root;

    /// <summary>Whether Puts try O_DIRECT (the start-up log says so).</summary>
    public bool WritesDirect => _direct is not null;

    /// <summary>Puts written with O_DIRECT so far (tests).</summary>
    public long DirectPuts => Interlocked.Read(ref _directPuts);
    private long _directPuts;

    public void Dispose() => _direct?.Dispose();

    /// <summary>The O_DIRECT writer, null without directWrites (tests).</summary>
    internal DirectWrites? Direct => _direct;

    public string Describe() => $"file://{_root}";

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        var path = PathOf(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            int total = 0;
            while (total < destination.Length)
            {
                int n = await RandomAccess.ReadAsync(handle, destination[total..], offset + total, ct).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
            return total;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException
                                   || (e is UnauthorizedAccessException && Directory.Exists(path)))
        {
            // A directory is a key prefix here, not an object (as in S3, where "a" is absent when only "a/b" exists).
            throw new ObjectNotFoundException(key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException($"get {key} from {Describe()} failed: {e.Message}", e);
        }
    }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        var path = PathOf(key);
        ct.ThrowIfCancellationRequested();
        // fsync blocks for milliseconds; keep it off the caller's thread (an NFS connection loop).
        return new ValueTask(Task.Run(() => Put(key, path, data), ct));
    }

    private void Put(string key, string path, ReadOnlyMemory<byte> data)
    {
        var dir = Path.GetDirectoryName(path)!;
        try
        {
            PutOnce(dir, path, data);
        }
        catch (DirectoryNotFoundException)
        {
            // A directory we had seen was removed behind our back (an operator cleaning up): forget it, recreate it.
            foreach (var d in _durableDirs.Keys)
                if (d != _root) _durableDirs.TryRemove(d, out _);
            try
            {
                PutOnce(dir, path, data);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ObjectStoreException($"put {key} to {Describe()} failed: {e.Message}", e);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException($"put {key} to {Describe()} failed: {e.Message}", e);
        }
    }

    private void PutOnce(string dir, string path, ReadOnlyMemory<byte> data)
    {
        var tmp = Path.Combine(dir, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            EnsureDurableDir(dir);
            // Preallocated for buffered writes only: a direct write pads to 4 KiB and cuts the file back itself.
            using (var handle = File.OpenHandle(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, _direct is null ? data.Length : 0))
            {
                if (_direct?.TryWrite(handle, data.Span) == true) Interlocked.Increment(ref _directPuts);
                else RandomAccess.Write(handle, data.Span, 0);
                RandomAccess.FlushToDisk(handle);
            }
            File.Move(tmp, path, overwrite: true); // rename(2): atomic replace
            DirSync.Fsync(dir);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Creates <paramref name="dir"/> and its missing parents, fsync'ing each parent so the new entries are durable.</summary>
    private void EnsureDurableDir(string dir)
    {
        if (_durableDirs.ContainsKey(dir)) return;
        var parent = Path.GetDirectoryName(dir)!;
        EnsureDurableDir(parent);
        Directory.CreateDirectory(dir);
        // Also when the directory already existed: another thread may have just created it and not yet fsync'ed
        // the parent, and our object must not depend on its timing.
        DirSync.Fsync(parent);
        _durableDirs[dir] = true;
    }

    public ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        var path = PathOf(key);
        try
        {
            // Not fsync'ed: a delete that a crash undoes is redone by the caller's garbage collection, and an
            // object coming back is harmless because objects are immutable. Empty parent directories are left in
            // place, because removing one races with a concurrent Put creating a file in it.
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            // a key prefix, not an object: nothing to delete
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException($"delete {key} from {Describe()} failed: {e.Message}", e);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(key));
        return ValueTask.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0) ValidateKey(prefix, allowTrailingSlash: true);
        // Only the directory named by the prefix's complete segments can hold matches.
        int slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        var found = new List<(string Key, long Size)>();
        if (Directory.Exists(start))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
            int rootLen = _root.Length + 1;
            var entries = new FileSystemEnumerable<(string, long)>(start, (ref FileSystemEntry e) => (e.ToFullPath()[rootLen..], e.Length), options)
            {
                ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && !e.FileName.StartsWith(TempPrefix, StringComparison.Ordinal),
            };
            try
            {
                foreach (var (key, size) in entries)
                {
                    ct.ThrowIfCancellationRequested();
                    if (key.StartsWith(prefix, StringComparison.Ordinal)) found.Add((key, size));
                }
            }
            catch (DirectoryNotFoundException)
            {
                // the prefix directory vanished while we listed it: nothing under it any more
            }
        }
        // Ordinal UTF-16 order equals UTF-8 byte order (S3's order) except for characters beyond U+FFFF vs
        // U+E000..U+FFFF, which keys made by the data path never contain. Collect-and-sort because a
        // directory-by-directory walk is not in key order ("a.b" sorts before "a/b").
        found.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
        foreach (var item in found)
        {
            yield return item;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Deletes temp files left by Puts that a crash interrupted. Call at startup, when no Put is running.</summary>
    public int RemoveTempFiles()
    {
        int n = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var f in Directory.EnumerateFiles(_root, TempPrefix + "*", options))
        {
            if (!Path.GetFileName(f).StartsWith(TempPrefix, StringComparison.Ordinal)) continue;
            TryDelete(f);
            n++;
        }
        return n;
    }

    private string PathOf(string key)
    {
        ValidateKey(key, allowTrailingSlash: false);
        return _root + "/" + key;
    }

    /// <summary>
    /// A key is a relative path: not empty, no leading '/', no empty, "." or ".." segment (which would escape the
    /// root or alias another key), no NUL, no segment with the temp prefix.
    /// </summary>
    public static void ValidateKey(string key, bool allowTrailingSlash = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0) throw new ArgumentException("object key is empty", nameof(key));
        if (key.Contains('\0')) throw new ArgumentException("object key contains NUL", nameof(key));
        if (key[0] == '/') throw new ArgumentException($"object key is absolute: {key}", nameof(key));
        var segments = key.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            if (s.Length == 0 && allowTrailingSlash && i == segments.Length - 1) continue;
            if (s.Length == 0) throw new ArgumentException($"object key has an empty segment: {key}", nameof(key));
            if (s is "." or "..") throw new ArgumentException($"object key has a '{s}' segment: {key}", nameof(key));
            if (s.StartsWith(TempPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"object key segment uses the reserved prefix {TempPrefix}: {key}", nameof(key));
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
