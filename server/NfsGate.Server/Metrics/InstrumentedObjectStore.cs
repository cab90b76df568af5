using System.Diagnostics;
using System.Runtime.CompilerServices;
using NfsGate.Data;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// The metrics decorator of the object-store seam (JuiceFS pkg/object's "withMetrics"): requests, errors, latency
/// and bytes by operation. It wraps the backend below the block cache, so what it counts is real traffic to S3 (or
/// the local object directory): cache misses, uploads, deletes. Lives in the server so the data layer needs no
/// metrics library.
/// </summary>
internal sealed class InstrumentedObjectStore : IObjectStore
{
    readonly IObjectStore _inner;
    readonly Op _get, _put, _delete, _head, _list;

    public InstrumentedObjectStore(IObjectStore inner, ObjectStoreMetrics metrics)
    {
        _inner = inner;
        _get = new Op(metrics, "get");
        _put = new Op(metrics, "put");
        _delete = new Op(metrics, "delete");
        _head = new Op(metrics, "head");
        _list = new Op(metrics, "list");
    }

    public string Describe() => _inner.Describe();

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            int n = await _inner.GetAsync(key, offset, destination, ct).ConfigureAwait(false);
            _get.Done(start, n);
            return n;
        }
        catch (Exception e)
        {
            _get.Failed(start, e, ct);
            throw;
        }
    }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(key, data, ObjectPutOptions.Default, ct);

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.PutAsync(key, data, options, ct).ConfigureAwait(false);
            _put.Done(start, data.Length);
        }
        catch (Exception e)
        {
            _put.Failed(start, e, ct);
            throw;
        }
    }

    public async ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.DeleteAsync(key, ct).ConfigureAwait(false);
            _delete.Done(start, 0);
        }
        catch (Exception e)
        {
            _delete.Failed(start, e, ct);
            throw;
        }
    }

    public async ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var size = await _inner.HeadAsync(key, ct).ConfigureAwait(false);
            _head.Done(start, 0);
            return size;
        }
        catch (Exception e)
        {
            _head.Failed(start, e, ct);
            throw;
        }
    }

    /// <summary>One listing counts as one request, timed until the caller has read it all (S3 pages included).</summary>
    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        long start = Stopwatch.GetTimestamp();
        await using var e = _inner.ListAsync(prefix, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            bool more;
            try
            {
                more = await e.MoveNextAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _list.Failed(start, ex, ct);
                throw;
            }
            if (!more) break;
            yield return e.Current;
        }
        _list.Done(start, 0);
    }

    /// <summary>The label children of one operation, resolved once so a request costs no label lookup.</summary>
    sealed class Op(ObjectStoreMetrics m, string name)
    {
        readonly Counter.Child _requests = m.Requests.WithLabels(name);
        readonly Counter.Child _bytes = m.Bytes.WithLabels(name);
        readonly Histogram.Child _duration = m.Duration.WithLabels(name);
        readonly Counter.Child _notFound = m.Errors.WithLabels(name, "not_found");
        readonly Counter.Child _failed = m.Errors.WithLabels(name, "error");

        public void Done(long start, long bytes)
        {
            _requests.Inc();
            if (bytes > 0) _bytes.Inc(bytes);
            _duration.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        public void Failed(long start, Exception e, CancellationToken ct)
        {
            // A caller that gave up is not a store failure (and its duration says nothing about the store).
            if (e is OperationCanceledException && ct.IsCancellationRequested) return;
            _requests.Inc();
            _duration.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            (e is ObjectNotFoundException ? _notFound : _failed).Inc();
        }
    }
}
