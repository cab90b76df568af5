using System.Runtime;
using NfsGate.Server.Hosting;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// GC, thread-pool and JIT series read straight from the runtime's APIs at scrape time, next to prometheus-net's
/// process collector (process_cpu_seconds_total, process_resident_memory_bytes, dotnet_collection_count_total, ...).
/// Not prometheus-net's MeterAdapter over the "System.Runtime" meter: it names series
/// system_runtime_dotnet_thread_pool_thread_count and exports counters without _total, which promtool's lint rejects.
/// </summary>
internal static class RuntimeMetrics
{
    public static void Attach(GatewayMetrics metrics, IMetricFactory f)
    {
        var pause = new CounterFeed(f.NewCounter("dotnet_gc_pause_seconds_total", "Time the process spent paused by garbage collections."));
        var allocated = new CounterFeed(f.NewCounter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap."));
        var heap = f.NewGauge("dotnet_gc_heap_size_bytes", "Managed heap size after the last collection, by generation.", "generation");
        var committed = f.NewGauge("dotnet_gc_committed_bytes", "Memory committed by the GC after the last collection.");
        var fragmented = f.NewGauge("dotnet_gc_fragmented_bytes", "Free space inside the managed heap after the last collection.");
        var threads = f.NewGauge("dotnet_threadpool_threads", "Thread-pool threads now.");
        var queue = f.NewGauge("dotnet_threadpool_queue_length", "Work items queued to the thread pool and not started yet.");
        var completed = new CounterFeed(f.NewCounter("dotnet_threadpool_completed_items_total", "Work items the thread pool has run."));
        var contentions = new CounterFeed(f.NewCounter("dotnet_monitor_lock_contentions_total", "Times a thread had to wait for a lock (Monitor) held by another."));
        var jitted = new CounterFeed(f.NewCounter("dotnet_jit_compiled_methods_total", "Methods compiled by the JIT."));
        var timers = f.NewGauge("dotnet_timers", "Active timers.");
        // Process-wide like the heap itself (Hosting/NativeHeap.cs); stays at 0 unless `serve` started the trims.
        var trims = new CounterFeed(f.NewCounter("nfsgate_native_heap_trims_total", "Times freed malloc memory was returned to the kernel (malloc_trim)."));
        var trimSeconds = new CounterFeed(f.NewCounter("nfsgate_native_heap_trim_seconds_total", "Time spent in malloc_trim (it holds each malloc arena's lock while it runs)."));
        var trimmed = new CounterFeed(f.NewCounter("nfsgate_native_heap_trimmed_bytes_total", "Resident memory given back by malloc_trim: freed native memory (RocksDB, O_DIRECT buffers) malloc had kept."));
        string[] generations = ["gen0", "gen1", "gen2", "loh", "poh"];

        metrics.OnScrape(() =>
        {
            pause.Update(GC.GetTotalPauseDuration().TotalSeconds);
            allocated.Update(GC.GetTotalAllocatedBytes());
            var info = GC.GetGCMemoryInfo();
            var gens = info.GenerationInfo;
            for (int i = 0; i < gens.Length && i < generations.Length; i++) heap.WithLabels(generations[i]).Set(gens[i].SizeAfterBytes);
            committed.Set(info.TotalCommittedBytes);
            fragmented.Set(info.FragmentedBytes);
            threads.Set(ThreadPool.ThreadCount);
            queue.Set(ThreadPool.PendingWorkItemCount);
            completed.Update(ThreadPool.CompletedWorkItemCount);
            contentions.Update(Monitor.LockContentionCount);
            jitted.Update(System.Runtime.JitInfo.GetCompiledMethodCount());
            timers.Set(Timer.ActiveCount);
            trims.Update(NativeHeap.Trims);
            trimSeconds.Update(NativeHeap.TrimSeconds);
            trimmed.Update(NativeHeap.TrimmedBytes);
        });
    }
}
