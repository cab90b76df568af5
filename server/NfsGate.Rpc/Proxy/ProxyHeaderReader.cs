using System.IO.Pipelines;

namespace NfsGate.Rpc.Proxy;

/// <summary>Reads one PROXY header off the front of a pipe, leaving the bytes after it for the RPC session.</summary>
public static class ProxyHeaderReader
{
    /// <summary>
    /// Reads until a whole header (Ok, consumed), an invalid one (its status, nothing consumed), the peer's close or
    /// <paramref name="timeout"/> (Truncated). Never throws for what the peer sends; <paramref name="ct"/> also gives Truncated.
    /// </summary>
    public static async Task<(ProxyHeaderStatus Status, ProxyHeader Header)> ReadAsync(PipeReader input, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout > TimeSpan.Zero) limit.CancelAfter(timeout);
        while (true)
        {
            ReadResult rr;
            try
            {
                rr = await input.ReadAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return (ProxyHeaderStatus.Truncated, default);
            }
            var buffer = rr.Buffer;
            var status = ProxyHeaderParser.TryParse(buffer, out var header, out int consumed);
            if (status == ProxyHeaderStatus.Ok)
            {
                input.AdvanceTo(buffer.GetPosition(consumed));
                return (status, header);
            }
            if (status != ProxyHeaderStatus.NeedMore)
            {
                input.AdvanceTo(buffer.Start);
                return (status, default);
            }
            // The parser looks at most MaxHeaderLength bytes and decides within them, so NeedMore means fewer arrived.
            input.AdvanceTo(buffer.Start, buffer.End);
            if (rr.IsCompleted || rr.IsCanceled) return (ProxyHeaderStatus.Truncated, default);
        }
    }
}
