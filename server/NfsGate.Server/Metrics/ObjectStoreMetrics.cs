using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>The object-store series, fed by <see cref="InstrumentedObjectStore"/>. Labels: operation (get, put, delete, head, list).</summary>
internal sealed class ObjectStoreMetrics(IMetricFactory f)
{
    // 1 ms … 65 s doubling: a local-directory get is ~0.1 ms (lands in the first bucket), an S3 GET of a 4 MiB block
    // tens to hundreds of ms, and a request that runs into the 30 s request timeout still gets a bucket of its own.
    static readonly double[] Buckets = Histogram.ExponentialBuckets(0.001, 2, 17);

    public readonly Counter Requests = f.NewCounter("nfsgate_object_store_requests_total",
        "Requests to the object store (below the block cache), by operation.", "operation");
    public readonly Counter Errors = f.NewCounter("nfsgate_object_store_errors_total",
        "Object-store requests that failed, by operation and reason (not_found, error).", "operation", "reason");
    public readonly Counter Bytes = f.NewCounter("nfsgate_object_store_bytes_total",
        "Bytes read from (get) or written to (put) the object store.", "operation");
    public readonly Histogram Duration = f.CreateHistogram("nfsgate_object_store_request_duration_seconds",
        "Object-store request latency, by operation.", new HistogramConfiguration { LabelNames = ["operation"], Buckets = Buckets });
}
