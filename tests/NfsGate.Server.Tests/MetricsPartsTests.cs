using System.Net;
using NfsGate.Data;
using NfsGate.Server.Metrics;
using Prometheus;

namespace NfsGate.Server.Tests;

public sealed class MetricsPartsTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), $"nfsgate-metrics-parts-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Client_labels_stop_at_the_cap_and_stay_stable()
    {
        var labels = new ClientLabels(max: 2);
        Assert.Equal("10.0.0.1", labels.For(IPAddress.Parse("10.0.0.1")));
        Assert.Equal("10.0.0.2", labels.For(IPAddress.Parse("::ffff:10.0.0.2")));
        Assert.Equal(ClientLabels.Other, labels.For(IPAddress.Parse("10.0.0.3")));
        Assert.Equal("10.0.0.1", labels.For(IPAddress.Parse("10.0.0.1")));
        Assert.Equal(ClientLabels.Other, labels.For(IPAddress.Parse("10.0.0.4")));
    }

    [Fact]
    public void Client_labels_under_concurrency_never_exceed_the_cap()
    {
        var labels = new ClientLabels(max: 8);
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 1000, i => seen.Add(labels.For(new IPAddress(new byte[] { 10, 0, (byte)(i / 256), (byte)i }))));
        Assert.Equal(9, seen.Distinct().Count()); // 8 addresses + "other"
    }

    [Fact]
    public void Counter_feed_keeps_counting_up_when_its_source_restarts()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var counter = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("t_total", "t");
        var feed = new CounterFeed(counter);
        feed.Update(10);
        feed.Update(15);
        feed.Update(3); // the source was reset, then counted 3
        feed.Update(4);
        Assert.Equal(19, counter.Value);
    }

    [Fact]
    public async Task Object_store_decorator_counts_requests_bytes_and_errors_by_operation()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var m = new ObjectStoreMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        var store = new InstrumentedObjectStore(new LocalDirObjectStore(_dir), m);

        await store.PutAsync("a", new byte[100]);
        var buf = new byte[40];
        Assert.Equal(40, await store.GetAsync("a", 10, buf));
        await Assert.ThrowsAsync<ObjectNotFoundException>(async () => await store.GetAsync("missing", 0, buf));
        Assert.Equal(100, await store.HeadAsync("a"));
        await foreach (var _ in store.ListAsync("")) { }
        await store.DeleteAsync("a");
        using (var cancelled = new CancellationTokenSource())
        {
            var hanging = new InstrumentedObjectStore(new HangingStore(), m);
            var get = hanging.GetAsync("a", 0, buf, cancelled.Token).AsTask();
            cancelled.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => get);
        }

        Assert.Equal(1, m.Requests.WithLabels("put").Value);
        Assert.Equal(100, m.Bytes.WithLabels("put").Value);
        Assert.Equal(2, m.Requests.WithLabels("get").Value); // the cancelled one is the caller's doing, not the store's
        Assert.Equal(40, m.Bytes.WithLabels("get").Value);
        Assert.Equal(1, m.Errors.WithLabels("get", "not_found").Value);
        Assert.Equal(0, m.Errors.WithLabels("get", "error").Value);
        Assert.Equal(1, m.Requests.WithLabels("head").Value);
        Assert.Equal(1, m.Requests.WithLabels("list").Value);
        Assert.Equal(1, m.Requests.WithLabels("delete").Value);
        Assert.Equal(2, m.Duration.WithLabels("get").Count);
    }

    [Fact]
    public async Task Object_store_failures_are_errors()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var m = new ObjectStoreMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        var store = new InstrumentedObjectStore(new BrokenStore(), m);
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await store.PutAsync("k", new byte[1]));
        Assert.Equal(1, m.Errors.WithLabels("put", "error").Value);
        Assert.Equal(0, m.Bytes.WithLabels("put").Value);
    }

    /// <summary>Every get waits until cancelled.</summary>
    sealed class HangingStore : IObjectStore
    {
        public string Describe() => "hanging";
        public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => throw new NotSupportedException();
        public ValueTask DeleteAsync(string key, CancellationToken ct = default) => throw new NotSupportedException();
        public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) => throw new NotSupportedException();
        public IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default) => throw new NotSupportedException();
    }

    sealed class BrokenStore : IObjectStore
    {
        public string Describe() => "broken";
        public ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default) => throw new ObjectStoreException("down");
        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => throw new ObjectStoreException("down");
        public ValueTask DeleteAsync(string key, CancellationToken ct = default) => throw new ObjectStoreException("down");
        public ValueTask<long?> HeadAsync(string key, CancellationToken ct = default) => throw new ObjectStoreException("down");
        public IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, CancellationToken ct = default) => throw new ObjectStoreException("down");
    }
}
