using System.Net;
using System.Net.Sockets;

namespace NfsGate.TestShared;

/// <summary>
/// A loopback port for a server the tests start as a separate process (postgres, radosgw), which must be told its port
/// before it binds. Picked below Linux's ephemeral range (32768-60999, the kernel's default): a port the kernel hands
/// out for port 0 can be taken again by any outgoing connection (an S3 client's, a test client's) between our probe
/// and the other process's bind, which made such a start fail now and then. The same range as tests/e2e/lib.sh and
/// perf/lib.sh use for their servers.
/// </summary>
internal static class FreePorts
{
    private const int First = 20000, Count = 12000;

    public static int Pick()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = First + Random.Shared.Next(Count);
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port; // free now; nothing but another pick of ours can take it before the server binds
            }
            catch (SocketException)
            {
                // in use: try another
            }
        }
        throw new InvalidOperationException($"no free loopback port in {First}-{First + Count - 1} after 200 tries");
    }
}
