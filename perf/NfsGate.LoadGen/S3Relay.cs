using System.Net;
using System.Net.Sockets;

namespace NfsGate.LoadGen;

/// <summary>
/// A TCP relay between nfsgate and the S3 server that counts the bytes coming back from S3 (bodies plus HTTP
/// headers, so the count errs high). The shared Ceph gateway also serves other people's tests, so its own counters
/// cannot tell our bytes apart; this relay only sees our nfsgate. It prints its port, then on every line read from
/// stdin prints the byte count so far, and exits when stdin closes.
/// </summary>
internal static class S3Relay
{
    public static async Task<int> RunAsync(Args a)
    {
        var upstream = Args.EndPoint(a.Str("upstream"));
        var listener = new TcpListener(IPAddress.Loopback, a.Int("port", 0));
        listener.Start();
        Console.WriteLine(((IPEndPoint)listener.LocalEndpoint).Port);
        long fromS3 = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var down = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                _ = Task.Run(async () =>
                {
                    using var d = down;
                    using var up = new TcpClient { NoDelay = true };
                    try
                    {
                        await up.ConnectAsync(upstream).ConfigureAwait(false);
                        d.NoDelay = true;
                        var toS3 = d.GetStream().CopyToAsync(up.GetStream());
                        var back = Pump(up.GetStream(), d.GetStream(), n => Interlocked.Add(ref fromS3, n));
                        await Task.WhenAny(toS3, back).ConfigureAwait(false);
                    }
                    catch (IOException) { }
                    catch (SocketException) { }
                });
            }
        });
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is not null)
            Console.WriteLine(Interlocked.Read(ref fromS3));
        listener.Stop();
        return 0;
    }

    private static async Task Pump(Stream from, Stream to, Action<int> counted)
    {
        var buf = new byte[256 << 10];
        int n;
        while ((n = await from.ReadAsync(buf).ConfigureAwait(false)) > 0)
        {
            counted(n);
            await to.WriteAsync(buf.AsMemory(0, n)).ConfigureAwait(false);
        }
    }
}
