using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Server.Config;
using NfsGate.Server.Hosting;

namespace NfsGate.Server.Tests;

/// <summary>
/// NativeHeap against this process's own glibc malloc. Not run beside other tests: the trim test reads the process's
/// resident memory, which a test allocating at the same time would move.
/// </summary>
[Collection(nameof(NativeHeapTests))]
public sealed class NativeHeapTests : IDisposable
{
    readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"nfsgate-native-heap-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public unsafe void A_trim_gives_back_memory_that_malloc_kept_after_it_was_freed()
    {
        // 192 MiB in 64 KiB chunks (below malloc's mmap threshold, so they come from its heaps), written so they are
        // resident, each followed by a small chunk that stays allocated. Freeing the large ones leaves 64 KiB holes
        // between chunks in use: free() can give none of them back (only a heap's free top), malloc_trim can.
        const int chunk = 64 << 10, count = 3072;
        var large = new nint[count];
        var pins = new nint[count];
        for (int i = 0; i < count; i++)
        {
            large[i] = (nint)NativeMemory.Alloc(chunk);
            new Span<byte>((void*)large[i], chunk).Fill(1);
            pins[i] = (nint)NativeMemory.Alloc(64);
        }
        for (int i = 0; i < count; i++) NativeMemory.Free((void*)large[i]);
        try
        {
            long kept = NativeHeap.ResidentBytes();
            long trims = NativeHeap.Trims, trimmed = NativeHeap.TrimmedBytes;
            Assert.True(NativeHeap.Trim());
            long after = NativeHeap.ResidentBytes();
            Assert.True(kept - after > 128L << 20, $"resident {kept >> 20} MiB before the trim, {after >> 20} MiB after");
            Assert.Equal(trims + 1, NativeHeap.Trims);
            Assert.True(NativeHeap.TrimmedBytes - trimmed > 128L << 20);
        }
        finally
        {
            foreach (var p in pins) NativeMemory.Free((void*)p);
        }
    }

    [Fact]
    public void Resident_bytes_come_from_proc()
    {
        long rss = NativeHeap.ResidentBytes();
        long status = long.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        Assert.InRange(rss, status / 2, status * 2); // both moments of a moving number, same scale
    }

    [Fact]
    public void Start_caps_the_arenas_once_per_process()
    {
        var log = new ListLogger();
        bool first = NativeHeap.Start(log);
        bool second = NativeHeap.Start(log);
        Assert.False(second);
        // Another test in this process may have started it first; then this one only sees the refusal.
        if (first) Assert.Contains(log.Lines, l => l.Message.StartsWith("native heap: at most ") && l.Message.Contains(" malloc arenas"));
    }

    [Fact]
    public async Task Trims_show_on_the_metrics()
    {
        var config = ConfigLoader.Parse($$"""{ "listen": "127.0.0.1:0", "portmapper": "off", "http": "127.0.0.1:0", "dataDir": "{{_dataDir}}" }""",
            "(test)", new Dictionary<string, string>(), []);
        await using var host = await GatewayHost.StartAsync(config, NullLoggerFactory.Instance, CancellationToken.None);
        var before = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        Assert.True(NativeHeap.Trim());
        var after = await MetricsExposition.ScrapeAsync(host.HttpEndpoint!);
        Assert.True(after.Get("nfsgate_native_heap_trims_total") >= (before.Get("nfsgate_native_heap_trims_total") ?? 0) + 1);
        Assert.True(after.Get("nfsgate_native_heap_trim_seconds_total") > 0);
        Assert.NotNull(after.Get("nfsgate_native_heap_trimmed_bytes_total"));
    }

}

[CollectionDefinition(nameof(NativeHeapTests), DisableParallelization = true)]
public sealed class NativeHeapTestsCollection;
