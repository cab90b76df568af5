using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NfsGate.Data.Tests.S3;

/// <summary>
/// A broken S3 endpoint on 127.0.0.1 (port 0): it either never answers (a hung server) or answers every request
/// with one fixed error status, counting the requests it sees. With <c>gated</c>, each request waits for a
/// <see cref="Release"/> before its answer, and the most requests held at once is recorded.
/// </summary>
public sealed class FakeS3Server : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpStatusCode? _status;
    private readonly string _errorCode;
    private readonly Task _accepting;
    private readonly List<TcpClient> _clients = [];
    private readonly SemaphoreSlim? _gate;
    private int _requests, _held, _maxHeld;

    /// <param name="status">The status of every reply; null = accept connections and never answer.</param>
    public FakeS3Server(HttpStatusCode? status, string errorCode = "SlowDown", bool gated = false)
    {
        _status = status;
        _errorCode = errorCode;
        _gate = gated ? new SemaphoreSlim(0) : null;
        _listener.Start();
        _accepting = Accept();
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Requests whose headers arrived.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Requests now waiting at the gate.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>The most requests ever waiting at the gate at once.</summary>
    public int MaxHeld => Volatile.Read(ref _maxHeld);

    /// <summary>Lets <paramref name="count"/> held requests (or future ones) get their answer.</summary>
    public void Release(int count) => _gate!.Release(count);

    /// <summary>Completed when the first request's headers arrived.</summary>
    public TaskCompletionSource FirstRequest { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task Accept()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients) _clients.Add(client);
                _ = Serve(client);
            }
        }
        // Stop() between two accepts makes the next AcceptTcpClientAsync throw InvalidOperationException ("Not
        // listening") instead of a cancellation: the same shutdown, seen once in CI.
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException
                                      || (e is InvalidOperationException && _stop.IsCancellationRequested))
        {
        }
    }

    private async Task Serve(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var buf = new byte[16 << 10];
            var seen = new StringBuilder();
            while (true)
            {
                int n = await stream.ReadAsync(buf, _stop.Token);
                if (n == 0) return;
                seen.Append(Encoding.ASCII.GetString(buf, 0, n));
                // One request per connection is enough: replies carry "Connection: close".
                if (!seen.ToString().Contains("\r\n\r\n")) continue;
                Interlocked.Increment(ref _requests);
                FirstRequest.TrySetResult();
                if (_status is not { } status)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token); // hang until disposed
                    return;
                }
                if (_gate is not null)
                {
                    int held = Interlocked.Increment(ref _held);
                    for (int max = Volatile.Read(ref _maxHeld); held > max; max = Volatile.Read(ref _maxHeld))
                        Interlocked.CompareExchange(ref _maxHeld, held, max);
                    try
                    {
                        await _gate.WaitAsync(_stop.Token);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _held);
                    }
                }
                var body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{_errorCode}</Code><Message>injected</Message><RequestId>1</RequestId></Error>";
                var reply = $"HTTP/1.1 {(int)status} {status}\r\nContent-Type: application/xml\r\nContent-Length: {body.Length}\r\nx-amz-request-id: 1\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), _stop.Token);
                return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        lock (_clients) foreach (var c in _clients) c.Dispose();
        _stop.Dispose();
    }
}
