using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Data;
using NfsGate.FileSystem.Maintenance;
using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Maintenance;
using NfsGate.Server.Cli;
using NfsGate.Server.Config;

namespace NfsGate.Server.Hosting;

/// <summary>
/// `nfsgate fsck` and `nfsgate gc`: open the configured metadata and object store (the backend, not the block
/// cache), run the library checker, print a summary on <c>stdout</c> and one progress line per phase on <c>stderr</c>.
/// Exit 0 clean, 1 problems/leaks found or the run failed, 2 configuration errors.
/// </summary>
public static class MaintenanceCommand
{
    public static Task<int> FsckAsync(GatewayConfig config, Command command, TextWriter output, TextWriter error, CancellationToken ct = default) =>
        WithStoresAsync(config, "fsck", error, async (kv, store) =>
        {
            var progress = new PhasePrinter(error, "fsck");
            var result = await DataChecker.CheckAsync(kv, store, new FsckOptions { CheckObjects = !command.MetadataOnly }, progress.Report, ct);
            progress.Finish();
            PrintFsck(result, output);
            return result.Clean ? Program.ExitOk : Program.ExitFailure;
        }, ct);

    public static Task<int> GcAsync(GatewayConfig config, Command command, TextWriter output, TextWriter error, CancellationToken ct = default) =>
        WithStoresAsync(config, "gc", error, async (kv, store) =>
        {
            var progress = new PhasePrinter(error, "gc");
            var result = await GarbageCollector.RunAsync(kv, store, new GcOptions { Delete = command.Delete, MaxSliceId = command.MaxSliceId }, progress.Report, ct);
            progress.Finish();
            PrintGc(result, command.MaxSliceId, output);
            bool leftLeaks = result.Leaked.Count > result.Deleted || result.LeakedInlineRows.Count > result.InlineRowsDeleted;
            return leftLeaks || result.Problems.Count > 0 ? Program.ExitFailure : Program.ExitOk;
        }, ct);

    static async Task<int> WithStoresAsync(GatewayConfig config, string name, TextWriter error, Func<IKvStore, IObjectStore, Task<int>> run, CancellationToken ct)
    {
        if (config.Metadata.Engine == MetadataEngine.Memory)
        {
            error.WriteLine($"nfsgate {name}: the metadata engine is \"memory\": nothing persists, so there is nothing to check");
            return Program.ExitUsage;
        }
        // Opening RocksDB would create an empty database: a wrong --data-dir must not look like a clean file system.
        if (config.Metadata.Engine == MetadataEngine.RocksDb && !File.Exists(Path.Combine(config.Metadata.Path, "CURRENT")))
        {
            error.WriteLine($"nfsgate {name}: no metadata store at {config.Metadata.Path} (wrong --data-dir or config?)");
            return Program.ExitFailure;
        }
        IKvStore kv;
        try
        {
            kv = StoreOpener.OpenMetadata(config.Metadata);
        }
        catch (IOException e) when (e.Message.Contains("in use", StringComparison.Ordinal))
        {
            error.WriteLine($"nfsgate {name}: {e.Message}: a server is running on this data dir; stop the server first");
            return Program.ExitFailure;
        }
        try
        {
            IObjectStore store = await StoreOpener.OpenBackendAsync(config.ObjectStore, prepare: false, NullLoggerFactory.Instance, ct);
            try
            {
                error.WriteLine($"nfsgate {name}: metadata {config.Metadata.Path}, objects {store.Describe()}");
                return await run(kv, store);
            }
            finally
            {
                (store as IDisposable)?.Dispose();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An unreachable store or an undecodable chunk list: no verdict is possible.
            error.WriteLine($"nfsgate {name}: failed: {e.Message}");
            return Program.ExitFailure;
        }
        finally
        {
            kv.Dispose();
        }
    }

    static void PrintFsck(FsckResult r, TextWriter o)
    {
        var m = r.Metadata;
        o.WriteLine($"metadata: {m.Volumes} volumes, {m.Inodes} inodes ({m.Directories} directories, {m.Files} files, {m.Symlinks} symlinks, {m.OtherInodes} other), "
                    + $"{m.Chunks} chunks, {m.Slices} slices; file bytes {Human((long)m.FileBytes)}, slice bytes {Human((long)m.SliceBytes)}");
        o.WriteLine(r.ObjectsChecked
            ? $"objects: {r.BlocksChecked} blocks checked, {r.BlocksMissing} missing, {r.BlocksWrongLength} wrong length"
            : "objects: not checked (--metadata-only)");
        foreach (var p in r.Problems)
            o.WriteLine($"  {p}");
        o.WriteLine(r.Clean ? "fsck: clean" : $"fsck: {r.Problems.Count} problems found");
    }

    static void PrintGc(GcResult r, ulong? maxSliceId, TextWriter o)
    {
        o.WriteLine($"slice counter: {r.SliceCounter} (last slice id allocated when this run started); candidates: slice ids up to {r.SliceIdBound}");
        o.WriteLine($"objects: {r.ObjectsListed} listed ({Human(r.BytesListed)}), {r.ReferencedObjects} referenced, {r.QueuedObjects} queued for deletion, "
                    + $"{r.NewerObjects} newer than the bound (left alone)");
        foreach (var p in r.Problems)
            o.WriteLine($"  {p}");
        o.WriteLine($"leaked: {r.Leaked.Count} objects, {Human(r.LeakedBytes)}");
        foreach (var l in r.Leaked)
            o.WriteLine($"  {l.Key}  {Human(l.Size)}");
        if (r.Leaked.Count == 0)
            o.WriteLine("gc: nothing leaked");
        else if (r.DryRun)
            o.WriteLine("gc: dry run, nothing deleted; run again with --delete to remove them");
        else if (r.Deleted == r.Leaked.Count)
            o.WriteLine($"gc: deleted all {r.Deleted} leaked objects ({Human(r.LeakedBytes)})");
        else
            o.WriteLine($"gc: deleted {r.Deleted} of {r.Leaked.Count} leaked objects");
        if (r.LeakedInlineRows.Count > 0)
            o.WriteLine($"inline rows: {r.LeakedInlineRows.Count} leaked ({Human(r.LeakedInlineBytes)} in the metadata), "
                        + (r.DryRun ? "not deleted (dry run)" : $"{r.InlineRowsDeleted} deleted"));
        if (r.Problems.Count > 0)
            o.WriteLine($"gc: {r.Problems.Count} keys under chunks/ are not block keys: left alone, check them by hand");
        if (maxSliceId is null)
        {
            // Why the bound matters: see GarbageCollector. This tool takes the metadata lock, so it runs with the
            // server stopped, where no upload can be in flight; the bound is for a run after writers resumed.
            o.WriteLine($"note: --delete is safe now (this tool runs only while the server is stopped). If writers ran in between, "
                        + $"a later run can pass --max-slice-id {r.SliceCounter} so that only slices allocated before this run are candidates.");
        }
    }

    /// <summary>Approximate, for people: 1.5 MiB. Exact sizes are in the key names.</summary>
    public static string Human(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = bytes;
        int u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} B" : v.ToString("0.#", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>Prints the last progress of each phase once, when the next phase starts or the run ends: one line per phase.</summary>
    sealed class PhasePrinter(TextWriter error, string name)
    {
        MaintenanceProgress? _last;

        public void Report(MaintenanceProgress p)
        {
            if (_last is { } last && last.Phase != p.Phase)
                Print(last);
            _last = p;
        }

        public void Finish()
        {
            if (_last is { } last)
                Print(last);
            _last = null;
        }

        void Print(MaintenanceProgress p) =>
            error.WriteLine(p.Total >= 0 ? $"nfsgate {name}: {p.Phase}: {p.Done}/{p.Total}" : $"nfsgate {name}: {p.Phase}: {p.Done}");
    }
}
