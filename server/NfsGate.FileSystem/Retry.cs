using Microsoft.Extensions.Logging;

namespace NfsGate.FileSystem;

/// <summary>
/// Retries an object-store call with exponential backoff. Hand-written rather than Polly: three lines of loop,
/// and the data path must not depend on a policy library's allocation behaviour per block.
/// </summary>
internal static class Retry
{
    public static async Task<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> op, FileSystemOptions options,
        ILogger logger, string what, CancellationToken ct)
    {
        var delay = options.RetryBaseDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await op(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < options.ObjectRetries && !ct.IsCancellationRequested)
            {
                Log.ObjectRetry(logger, what, attempt, ex.Message);
            }
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }
}
