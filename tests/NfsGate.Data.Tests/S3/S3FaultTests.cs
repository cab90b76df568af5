using System.Net;
using System.Net.Sockets;
using NfsGate.Data;
using NfsGate.Data.S3;

namespace NfsGate.Data.Tests.S3;

/// <summary>The retry policy against broken endpoints on loopback (no S3 server needed).</summary>
public sealed class S3FaultTests
{
    /// <summary>Guards against a hang; not a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private static S3Options Options(string endpoint) => new()
    {
        Endpoint = endpoint,
        Bucket = "bucket",
        AccessKey = "ak",
        SecretKey = "sk",
        MaxRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        // Generous: the first request of a process JITs the SDK, on two shared cores. Only the hung-server test
        // wants attempts to time out, and it shortens this.
        RequestTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(20),
    };

    private static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task Refused_connections_are_retried_then_reported_as_ObjectStoreException()
    {
        using var s3 = new S3ObjectStore(Options($"http://127.0.0.1:{ClosedPort()}"));
        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3.GetAsync("k", 0, new byte[10]).AsTask().WaitAsync(Hang));
        Assert.Contains("3 attempt", e.Message);
        Assert.Equal((3, 2, 1), (s3.Requests, s3.Retries, s3.Failures));

        await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3.PutAsync("k", new byte[10]).AsTask().WaitAsync(Hang));
        Assert.Equal((6, 4, 2), (s3.Requests, s3.Retries, s3.Failures));
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_each_attempt()
    {
        await using var server = new FakeS3Server(status: null);
        using var s3 = new S3ObjectStore(Options(server.Endpoint) with { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3.HeadAsync("k").AsTask().WaitAsync(Hang));
        Assert.Equal((3, 2), (s3.Requests, s3.Retries));
        // Not exactly 3: an attempt can time out before its request is sent (a cold process on a busy machine),
        // and the HTTP stack may resend a request on a fresh connection within one attempt.
        Assert.True(server.Requests >= 1);
    }

    [Fact]
    public async Task Throttling_and_5xx_are_retried()
    {
        await using var slowDown = new FakeS3Server(HttpStatusCode.ServiceUnavailable, "SlowDown");
        using var s3 = new S3ObjectStore(Options(slowDown.Endpoint));
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3.GetAsync("k", 0, new byte[10]).AsTask().WaitAsync(Hang));
        Assert.Equal(3, slowDown.Requests);
        Assert.Equal(2, s3.Retries);

        await using var internalError = new FakeS3Server(HttpStatusCode.InternalServerError, "InternalError");
        using var s3b = new S3ObjectStore(Options(internalError.Endpoint) with { MaxRetries = 4 });
        await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3b.DeleteAsync("k").AsTask().WaitAsync(Hang));
        Assert.Equal(5, internalError.Requests);
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        await using var server = new FakeS3Server(HttpStatusCode.Forbidden, "AccessDenied");
        var log = new ListLogger<S3ObjectStore>();
        using var s3 = new S3ObjectStore(Options(server.Endpoint), log);
        // A GET: this fake answers before reading any body, which would turn a PUT into a connection reset.
        var e = await Assert.ThrowsAsync<ObjectStoreException>(async () => await s3.GetAsync("k", 0, new byte[10]).AsTask().WaitAsync(Hang));
        Assert.Contains("AccessDenied", e.Message);
        Assert.True(server.Requests == 1 && s3.Retries == 0, $"requests {server.Requests} retries {s3.Retries}: {string.Join("; ", log.Lines)}");
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_retried_nor_wrapped()
    {
        await using var server = new FakeS3Server(status: null);
        using var s3 = new S3ObjectStore(Options(server.Endpoint) with { RequestTimeout = TimeSpan.FromMinutes(5) });
        using var cts = new CancellationTokenSource();
        var get = s3.GetAsync("k", 0, new byte[10], cts.Token).AsTask();
        await server.FirstRequest.Task.WaitAsync(Hang);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => get.WaitAsync(Hang));
        Assert.Equal(0, s3.Retries);
    }

    [Fact]
    public async Task Requests_in_flight_are_bounded_by_MaxConcurrency()
    {
        await using var server = new FakeS3Server(HttpStatusCode.NotFound, "NoSuchKey", gated: true);
        using var s3 = new S3ObjectStore(Options(server.Endpoint) with { MaxConcurrency = 2 });
        var gets = Enumerable.Range(0, 8).Select(i => s3.GetAsync($"k{i}", 0, new byte[10]).AsTask()).ToArray();
        // Both slots fill; the six other requests must queue in the store, not reach the server.
        while (server.Held < 2) await Task.Delay(5);
        for (int served = 0; served < gets.Length; served++)
        {
            while (server.Held == 0) await Task.Delay(5);
            server.Release(1);
        }
        foreach (var g in gets) await Assert.ThrowsAsync<ObjectNotFoundException>(() => g.WaitAsync(Hang));
        Assert.Equal(8, server.Requests);
        Assert.Equal(2, server.MaxHeld);
        Assert.Equal(0, s3.Retries);
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3Options { Bucket = "" }));
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3Options { Bucket = "b", Endpoint = "not a url" }));
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3Options { Bucket = "b", AccessKey = "only-half" }));
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3Options { Bucket = "b", MaxConcurrency = 0 }));
        Assert.Throws<ArgumentException>(() => new S3ObjectStore(new S3Options { Bucket = "b", Prefix = "/abs" }));
    }
}
