using NfsGate.Data.Cache;
using NfsGate.FileSystem;
using NfsGate.Metadata;
using NfsGate.Protocol;

namespace NfsGate.Server.Hosting;

public enum WarmupMode { Fetch, Check, Evict }

/// <summary>What to warm: paths inside one export, relative to its root ("/" = the whole export).</summary>
public sealed record WarmupRequest(string Export, IReadOnlyList<string> Paths, WarmupMode Mode);

/// <summary>Why a request was refused before any work: the HTTP status to answer and the message.</summary>
public sealed record WarmupRefusal(int HttpStatus, string Error);

/// <summary>
/// Cache warm-up on the server: walks directory trees of an export and, for every regular file, fetches its blocks into
/// the block cache, checks which are cached, or evicts them. Runs on the metadata and the cache directly, so no client
/// mount and no NFS READ is involved, and the cache's hit/miss counters stay those of real reads.
/// </summary>
public sealed class Warmup(ExportTable exports, Func<uint, IVolumeMeta> volumeMeta, CachingObjectStore? cache)
{
    /// <summary>Blocks handled at once: enough to keep an S3 backend busy, few enough not to starve NFS reads.</summary>
    public const int Parallelism = 8;
    public const int MaxPaths = 1024;
    const int ReadDirPage = 512;

    /// <summary>Checks the request and resolves its paths; null refusal = <paramref name="plan"/> is ready to run.</summary>
    public WarmupRefusal? Prepare(WarmupRequest request, out WarmupPlan? plan)
    {
        plan = null;
        if (cache is null) return new(409, "the block cache is disabled");
        var export = exports.All.FirstOrDefault(e => e.Name == request.Export);
        if (export is null) return new(404, $"unknown export \"{request.Export}\"");
        if (request.Paths.Count == 0) return new(400, "no paths given");
        if (request.Paths.Count > MaxPaths) return new(400, $"more than {MaxPaths} paths");
        var roots = new List<ulong>();
        foreach (var path in request.Paths)
        {
            if (!path.StartsWith('/')) return new(400, $"path \"{path}\" must start with / (it is relative to the export root)");
            ulong ino = INamespace.RootInode;
            foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part is "." or "..") return new(400, $"path \"{path}\" may not contain . or ..");
                var r = export.Volume.Lookup(Credential.Root, ino, part);
                if (r.Status != FsStatus.Ok || r.Obj is not { } found)
                    return new(404, r.Status == FsStatus.NoEnt || r.Status == FsStatus.NotDir
                        ? $"no such file or directory in export \"{export.Name}\": {path}"
                        : $"cannot look up {path} in export \"{export.Name}\": {r.Status}");
                ino = found.Inode;
            }
            roots.Add(ino);
        }
        plan = new WarmupPlan(export, volumeMeta(export.Id), roots, request.Mode);
        return null;
    }

    /// <summary>
    /// Runs a prepared plan, updating <paramref name="progress"/> as it goes. Per-block failures (an object missing
    /// from the store) are counted, not thrown: the rest of the tree is still worth warming.
    /// </summary>
    public async Task RunAsync(WarmupPlan plan, WarmupProgress progress, CancellationToken ct)
    {
        var store = cache ?? throw new InvalidOperationException("the block cache is disabled");
        var files = Walk(plan, progress, ct);
        await Parallel.ForEachAsync(Blocks(plan, files, progress), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (item, token) =>
            {
                bool cached = false;
                try
                {
                    cached = await HandleBlock(store, plan.Mode, item.Block, progress, token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    progress.Failed(item.Block.Key, e.Message);
                }
                progress.BlockDone(item.Block.Length, cached);
                item.File.BlockDone(cached, progress);
            });
    }

    /// <summary>True when the block is (still) in the cache afterwards; for evict, when it was evicted.</summary>
    static async Task<bool> HandleBlock(CachingObjectStore store, WarmupMode mode, BlockRef block, WarmupProgress progress, CancellationToken ct)
    {
        switch (mode)
        {
            case WarmupMode.Check:
                return await store.IsCachedAsync(block.Key);
            case WarmupMode.Evict:
                return store.Evict(block.Key);
            default:
                if (await store.IsCachedAsync(block.Key)) return true;
                await store.PrefetchAsync(block.Key, ct);
                progress.BlockFetched();
                // Not cached after all when the object is too large for the cache or its disk is short of space.
                return await store.IsCachedAsync(block.Key);
        }
    }

    /// <summary>Every regular file under the plan's roots, once each (hard links and overlapping paths are deduplicated).</summary>
    static List<(ulong Ino, ulong Size)> Walk(WarmupPlan plan, WarmupProgress progress, CancellationToken ct)
    {
        var volume = plan.Export.Volume;
        var seen = new HashSet<ulong>();
        var files = new List<(ulong, ulong)>();
        var dirs = new Stack<ulong>();
        foreach (var root in plan.Roots)
        {
            if (volume.GetAttr(root, out var attr) != FsStatus.Ok || !seen.Add(root)) continue;
            if (attr.Type == FileType.Directory) dirs.Push(root);
            else if (attr.Type == FileType.Regular) AddFile(attr);
        }
        while (dirs.TryPop(out ulong dir))
        {
            ct.ThrowIfCancellationRequested();
            ulong cookie = 0, verifier = 0;
            while (true)
            {
                var page = volume.ReadDir(Credential.Root, dir, cookie, verifier, ReadDirPage, withAttrs: true);
                if (page.Status != FsStatus.Ok) break; // removed meanwhile: nothing left to warm there
                foreach (var entry in page.Entries)
                {
                    cookie = entry.Cookie;
                    if (entry.Name is "." or ".." || !seen.Add(entry.Inode)) continue;
                    Attr attr;
                    if (entry.Attr is { } a) attr = a;
                    else if (volume.GetAttr(entry.Inode, out attr) != FsStatus.Ok) continue;
                    if (attr.Type == FileType.Directory) dirs.Push(entry.Inode);
                    else if (attr.Type == FileType.Regular) AddFile(attr);
                }
                verifier = page.CookieVerifier;
                if (page.Eof || page.Entries.Count == 0) break;
            }
        }
        return files;

        void AddFile(Attr attr)
        {
            files.Add((attr.Inode, attr.Size));
            progress.FileFound(attr.Size);
        }
    }

    /// <summary>The files' blocks, computed lazily (one file's slice lists at a time) as the workers ask for more.</summary>
    static IEnumerable<(FileWork File, BlockRef Block)> Blocks(WarmupPlan plan, List<(ulong Ino, ulong Size)> files, WarmupProgress progress)
    {
        foreach (var (ino, size) in files)
        {
            var blocks = FileBlocks.Keys(plan.Meta, ino, size);
            var work = new FileWork(size, blocks.Count);
            progress.BlocksFound(blocks.Count);
            if (blocks.Count == 0)
            {
                progress.FileDone(size, allCached: true); // empty or all holes: nothing to fetch, nothing missing
                continue;
            }
            foreach (var b in blocks) yield return (work, b);
        }
    }

    sealed class FileWork(ulong size, int blocks)
    {
        int _remaining = blocks, _missing;

        public void BlockDone(bool cached, WarmupProgress progress)
        {
            if (!cached) Interlocked.Increment(ref _missing);
            if (Interlocked.Decrement(ref _remaining) == 0) progress.FileDone(size, Volatile.Read(ref _missing) == 0);
        }
    }
}

/// <summary>A checked request: the export, the volume metadata for slice lists, and the resolved root inodes.</summary>
public sealed record WarmupPlan(Export Export, IVolumeMeta Meta, IReadOnlyList<ulong> Roots, WarmupMode Mode);
