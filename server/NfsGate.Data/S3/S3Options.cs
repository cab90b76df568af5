namespace NfsGate.Data.S3;

/// <summary>Where and how <see cref="S3ObjectStore"/> talks to S3 (AWS or any S3-compatible server such as Ceph RGW or MinIO).</summary>
public sealed record S3Options
{
    /// <summary>Service URL, e.g. http://127.0.0.1:47480. Null for AWS itself (the endpoint then follows <see cref="Region"/>).</summary>
    public string? Endpoint { get; init; }

    public required string Bucket { get; init; }

    /// <summary>Signing region (AWS region, or whatever the S3-compatible server expects; "us-east-1" for most).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Prepended to every key ("" or a path such as "volumes/a/"; a missing trailing '/' is added).</summary>
    public string Prefix { get; init; } = "";

    /// <summary>Static credentials. When both are null: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else the SDK's default chain (profile, instance role, ...).</summary>
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }

    /// <summary>Path-style URLs (http://host/bucket/key): needed by most S3-compatible servers and by loopback endpoints.</summary>
    public bool ForcePathStyle { get; init; } = true;

    /// <summary>Storage class for new objects (e.g. STANDARD_IA, GLACIER_IR for cold data); null = the bucket's default.</summary>
    public string? StorageClass { get; init; }

    /// <summary>Requests in flight at once across all callers. 16: enough to fill a 10 Gbit/s link with 4 MiB GETs at ~50 ms each (16 × 4 MiB / 50 ms = 1.3 GB/s).</summary>
    public int MaxConcurrency { get; init; } = 16;

    /// <summary>Timeout of one attempt (the whole HTTP exchange, body included).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP connect timeout of one attempt: a dead endpoint should fail fast, long before <see cref="RequestTimeout"/>.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries after the first attempt of a transient failure (5xx, throttling, timeout, connection error).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Backoff before retry n (0-based) is a random delay in [0, min(RetryMaxDelay, RetryBaseDelay × 2^n)] ("full jitter").</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Keys per LIST request (S3's maximum and default is 1000; smaller only to exercise paging).</summary>
    public int ListPageSize { get; init; } = 1000;

    /// <summary>Create the bucket before the first operation if it does not exist.</summary>
    public bool CreateBucketIfMissing { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> on a value that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket)) throw new ArgumentException("S3 bucket is required", nameof(Bucket));
        if (string.IsNullOrWhiteSpace(Region)) throw new ArgumentException("S3 region is required", nameof(Region));
        if (Endpoint is not null && !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
            throw new ArgumentException($"S3 endpoint is not an absolute URL: {Endpoint}", nameof(Endpoint));
        if ((AccessKey is null) != (SecretKey is null))
            throw new ArgumentException("S3 access key and secret key go together", nameof(AccessKey));
        if (MaxConcurrency < 1) throw new ArgumentException("MaxConcurrency must be at least 1", nameof(MaxConcurrency));
        if (ListPageSize is < 1 or > 1000) throw new ArgumentException("ListPageSize must be in [1, 1000]", nameof(ListPageSize));
        if (MaxRetries < 0) throw new ArgumentException("MaxRetries must not be negative", nameof(MaxRetries));
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException("RequestTimeout must be positive", nameof(RequestTimeout));
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentException("ConnectTimeout must be positive", nameof(ConnectTimeout));
        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
            throw new ArgumentException("need 0 <= RetryBaseDelay <= RetryMaxDelay", nameof(RetryBaseDelay));
        if (Prefix.StartsWith('/')) throw new ArgumentException($"S3 prefix must be relative: {Prefix}", nameof(Prefix));
    }
}
