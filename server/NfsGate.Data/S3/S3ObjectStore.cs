using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NfsGate.Data.S3;

/// <summary>
/// Objects in an S3 bucket (AWS, Ceph RGW, MinIO, ...), under an optional key prefix.
/// <para>
/// Every request runs inside one retry loop of our own (the SDK's retries are off, so there is exactly one policy):
/// transient failures — 5xx, throttling (429, SlowDown), timeouts, refused or reset connections — are retried up to
/// <see cref="S3Options.MaxRetries"/> times with exponential backoff and full jitter; anything else, or the last
/// failure, becomes an <see cref="ObjectStoreException"/>. A <see cref="SemaphoreSlim"/> bounds the requests in
/// flight (<see cref="S3Options.MaxConcurrency"/>); a request waiting for its backoff does not hold a slot.
/// </para>
/// <para>
/// Keys follow the same rules as <see cref="LocalDirObjectStore.ValidateKey"/>, so a key that works on one backend
/// works on every other and a volume can move between them.
/// </para>
/// </summary>
public sealed partial class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly S3Options _options;
    private readonly IAmazonS3 _client;
    private readonly string _prefix;
    private readonly SemaphoreSlim _slots;
    private readonly S3StorageClass? _storageClass;
    private readonly ILogger _log;
    private Task? _bucketReady;
    private long _requests, _retries, _failures;

    public S3ObjectStore(S3Options options, ILogger<S3ObjectStore>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _log = log ?? NullLogger<S3ObjectStore>.Instance;
        options.Validate();
        _options = options;
        _prefix = options.Prefix.Length == 0 || options.Prefix.EndsWith('/') ? options.Prefix : options.Prefix + "/";
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _storageClass = options.StorageClass is null ? null : S3StorageClass.FindValue(options.StorageClass);
        _client = CreateClient(options);
    }

    public S3Options Options => _options;

    /// <summary>HTTP requests sent (attempts, retries included).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Attempts that failed transiently and were retried.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Operations that ended in <see cref="ObjectStoreException"/> (not-found excluded).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public string Describe() =>
        $"s3://{_options.Bucket}/{_prefix}" + (_options.Endpoint is null ? $" ({_options.Region})" : $" at {_options.Endpoint}");

    private static AmazonS3Client CreateClient(S3Options o)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = o.ForcePathStyle,
            // With the SDK v4 defaults (checksums on every request, aws-chunked bodies) S3-compatible servers over
            // plain HTTP reject every PUT with XAmzContentSHA256Mismatch (see tools/s3-ceph/README.md). The SigV4
            // payload hash still protects the body end to end.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 0, // our loop retries; two nested policies would multiply the attempts
            Timeout = o.RequestTimeout,
            ConnectTimeout = o.ConnectTimeout,
            MaxConnectionsPerServer = o.MaxConcurrency,
        };
        if (o.Endpoint is not null)
        {
            config.ServiceURL = o.Endpoint;
            config.AuthenticationRegion = o.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        }

        var credentials = ExplicitCredentials(o);
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <summary>The options' keys, else the AWS_* environment variables; null lets the SDK's default chain decide.</summary>
    private static AWSCredentials? ExplicitCredentials(S3Options o)
    {
        if (o.AccessKey is not null) return new BasicAWSCredentials(o.AccessKey, o.SecretKey);
        var ak = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var sk = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(ak) || string.IsNullOrEmpty(sk)) return null;
        var token = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN");
        return string.IsNullOrEmpty(token) ? new BasicAWSCredentials(ak, sk) : new SessionAWSCredentials(ak, sk, token);
    }

    /// <summary>Creates the bucket if it does not exist (idempotent). Called before the first operation when <see cref="S3Options.CreateBucketIfMissing"/> is set.</summary>
    public Task EnsureBucketAsync(CancellationToken ct = default) =>
        Run("create bucket", _options.Bucket, async t =>
        {
            try
            {
                await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket, UseClientRegion = true }, t).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou")
            {
            }
            return true;
        }, ct, ensureBucket: false);

    public async ValueTask<int> GetAsync(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        var full = FullKey(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.Length == 0)
        {
            // S3 has no empty range; only existence can be answered.
            return await HeadAsync(key, ct).ConfigureAwait(false) is null ? throw new ObjectNotFoundException(key) : 0;
        }
        return await Run("get", key, async t =>
        {
            var request = new GetObjectRequest
            {
                BucketName = _options.Bucket,
                Key = full,
                ByteRange = new ByteRange(offset, offset + destination.Length - 1), // inclusive end
            };
            GetObjectResponse response;
            try
            {
                response = await _client.GetObjectAsync(request, t).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (IsNoSuchKey(e))
            {
                throw new ObjectNotFoundException(key);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || e.ErrorCode == "InvalidRange")
            {
                return 0; // the object exists and the offset is at or past its end (or it is empty)
            }
            using (response)
            {
                var body = response.ResponseStream;
                // A server that ignores Range answers 200 with the whole object: skip to the offset.
                if (response.HttpStatusCode == HttpStatusCode.OK && offset > 0) await SkipAsync(body, offset, t).ConfigureAwait(false);
                int total = 0;
                while (total < destination.Length)
                {
                    // Straight from the HTTP stream into the caller's buffer: no intermediate copy.
                    int n = await body.ReadAsync(destination[total..], t).ConfigureAwait(false);
                    if (n == 0) break;
                    total += n;
                }
                return total;
            }
        }, ct).ConfigureAwait(false);
    }

    private static async Task SkipAsync(Stream body, long count, CancellationToken ct)
    {
        var scratch = new byte[(int)Math.Min(count, 64 << 10)];
        while (count > 0)
        {
            int n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(count, scratch.Length)), ct).ConfigureAwait(false);
            if (n == 0) return;
            count -= n;
        }
    }

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(key, data, ObjectPutOptions.Default, ct);

    /// <summary>A storage class in <paramref name="options"/> wins over <see cref="S3Options.StorageClass"/> for this object.</summary>
    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> data, ObjectPutOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var full = FullKey(key);
        await Run("put", key, async t =>
        {
            // A fresh stream per attempt: a failed attempt may have consumed part of the previous one.
            using var body = AsStream(data);
            await _client.PutObjectAsync(PutRequest(full, body, options), t).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>The PUT as sent (unit tests check the storage class without a server).</summary>
    internal PutObjectRequest PutRequest(string fullKey, Stream body, ObjectPutOptions options)
    {
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = fullKey,
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false, // see CreateClient: aws-chunked bodies are rejected over plain HTTP
        };
        var storageClass = options.StorageClass is { } perObject ? S3StorageClass.FindValue(perObject) : _storageClass;
        if (storageClass is not null) request.StorageClass = storageClass;
        return request;
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)
            : new MemoryStream(data.ToArray(), writable: false);

    public async ValueTask DeleteAsync(string key, CancellationToken ct = default)
    {
        var full = FullKey(key);
        // S3 answers 204 for an absent key too, so Delete is idempotent without special cases.
        await Run("delete", key, async t =>
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = full }, t).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    public async ValueTask<long?> HeadAsync(string key, CancellationToken ct = default)
    {
        var full = FullKey(key);
        return await Run("head", key, async t =>
        {
            try
            {
                var meta = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = full }, t).ConfigureAwait(false);
                return (long?)meta.ContentLength;
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // A HEAD reply has no body, so a missing bucket looks the same as a missing key here.
                return null;
            }
        }, ct).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<(string Key, long Size)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0) LocalDirObjectStore.ValidateKey(prefix, allowTrailingSlash: true);
        string? token = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _prefix + prefix, ContinuationToken = token, MaxKeys = _options.ListPageSize };
            var page = await Run("list", prefix, t => _client.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
            // SDK v4 leaves empty collections null.
            foreach (var o in page.S3Objects ?? [])
            {
                if (!o.Key.StartsWith(_prefix, StringComparison.Ordinal)) continue;
                yield return (o.Key[_prefix.Length..], o.Size ?? 0);
            }
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
    }

    private string FullKey(string key)
    {
        LocalDirObjectStore.ValidateKey(key);
        return _prefix + key;
    }

    private static bool IsNoSuchKey(AmazonS3Exception e) =>
        e.ErrorCode == "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket");

    /// <summary>
    /// Runs one operation with the concurrency bound and the retry policy. <paramref name="attempt"/> throws
    /// <see cref="ObjectStoreException"/> (e.g. not found) for outcomes that must not be retried or wrapped.
    /// </summary>
    private async Task<T> Run<T>(string op, string key, Func<CancellationToken, Task<T>> attempt, CancellationToken ct, bool ensureBucket = true)
    {
        if (ensureBucket && _options.CreateBucketIfMissing) await BucketReady(ct).ConfigureAwait(false);
        for (int n = 0; ; n++)
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                Interlocked.Increment(ref _requests);
                return await attempt(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (n < _options.MaxRetries && IsTransient(e, ct))
            {
                Interlocked.Increment(ref _retries);
                LogRetry(op, key, n + 1, Describe(e));
            }
            catch (Exception e) when (e is not ObjectStoreException && !(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                Interlocked.Increment(ref _failures);
                LogFailure(op, key, n + 1, Describe(e));
                throw new ObjectStoreException($"{op} {key} on {Describe()} failed after {n + 1} attempt(s): {Describe(e)}", e);
            }
            finally
            {
                _slots.Release();
            }
            await Task.Delay(Backoff(n), ct).ConfigureAwait(false);
        }
    }

    private Task BucketReady(CancellationToken ct)
    {
        var ready = Volatile.Read(ref _bucketReady);
        if (ready is null || ready.IsFaulted || ready.IsCanceled)
        {
            // A failed attempt is forgotten so the next operation tries again. The shared task does not take the
            // first caller's token: another caller must not see it cancelled.
            var fresh = EnsureBucketAsync(CancellationToken.None);
            ready = Interlocked.CompareExchange(ref _bucketReady, fresh, ready) == ready ? fresh : Volatile.Read(ref _bucketReady)!;
        }
        return ready.WaitAsync(ct);
    }

    /// <summary>Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): spreads retries of many clients hit by the same outage.</summary>
    private TimeSpan Backoff(int retry)
    {
        double cap = Math.Min(_options.RetryMaxDelay.TotalMilliseconds, _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap);
    }

    /// <summary>Worth another attempt: the server or the network failed, not the request.</summary>
    internal static bool IsTransient(Exception e, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return false; // the caller gave up
        if (e is ObjectStoreException) return false;
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case AmazonServiceException s when s.StatusCode != 0:
                    return (int)s.StatusCode >= 500
                        || s.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
                        || s.ErrorCode is "SlowDown" or "Throttling" or "ThrottlingException" or "RequestTimeout" or "RequestTimeTooSkewed";
                // Our ct is not cancelled, so a cancellation is the SDK's per-attempt timeout.
                case OperationCanceledException or TimeoutException or HttpRequestException or IOException or System.Net.Sockets.SocketException:
                    return true;
            }
        }
        return false;
    }

    private static string Describe(Exception e) =>
        e is AmazonServiceException s && s.StatusCode != 0 ? $"{(int)s.StatusCode} {s.ErrorCode}: {s.Message}" : $"{e.GetType().Name}: {e.Message}";

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "S3 {Op} {Key}: attempt {Attempt} failed transiently, retrying: {Error}")]
    private partial void LogRetry(string op, string key, int attempt, string error);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "S3 {Op} {Key} failed after {Attempts} attempt(s): {Error}")]
    private partial void LogFailure(string op, string key, int attempts, string error);

    public void Dispose()
    {
        _client.Dispose();
        _slots.Dispose();
    }
}
