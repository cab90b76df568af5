namespace NfsGate.Rpc;

/// <summary>Limits for the RPC transport. Every number here bounds memory or time a client can make us spend.</summary>
public sealed class RpcServerOptions
{
    /// <summary>
    /// Largest record accepted (all fragments together). 4 MiB is the largest NFS WRITE we advertise (wtmax);
    /// 64 KiB covers the RPC header (credential ≤ 400 B, verifier ≤ 400 B) and the WRITE3args fields with room to spare.
    /// A fragment header that would take a record past this closes the connection before anything is allocated.
    /// </summary>
    public int MaxRecordSize { get; set; } = 4 * 1024 * 1024 + 64 * 1024;

    /// <summary>
    /// Calls being processed at once on one connection; when reached, the connection stops reading (TCP back-pressure).
    /// 128 is well above what one Linux client keeps outstanding on a mount in practice (its slot table starts at 2 and
    /// grows on demand) while bounding a connection's buffered records to 128 × the record size actually sent.
    /// </summary>
    public int MaxInFlightPerConnection { get; set; } = 128;

    /// <summary>A record that stays incomplete this long closes the connection (slow-drip protection). Negative (Timeout.InfiniteTimeSpan) disables it.</summary>
    public TimeSpan IncompleteRecordTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A connection with no bytes received and no call in progress for this long is closed. Negative (Timeout.InfiniteTimeSpan) disables it.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a closing connection waits for its in-flight calls before giving up on their replies.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Accepted connections beyond this are closed at once (the client sees a reset, not a hang in the backlog).</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>
    /// Connections served by a receive thread of their own (RpcConnection.Blocking.cs); connections beyond this many
    /// at once use the async loop on the thread pool. A thread answers quick calls (GETATTR, LOOKUP, ACCESS, cached
    /// READ) without a hop to the pool, which roughly halves the server's CPU per call when a client has one call in
    /// flight. A Linux mount is one connection per server, so this is the number of client mounts served that way.
    /// 0 puts every connection on the async loop.
    /// Default: two per core. Many connections are served better by the pool, which batches their calls on a few
    /// busy workers: host A/B on 2 cores (perf/README.md, item 6), caps 0 / 2 / 4 / 64, rounds 2–3: GETATTR over 64
    /// connections 65.6–67.9k / 70.0–71.0k / 67.7–69.2k / 62.6–65.6k calls/s, 1 MiB READ over 16 connections 3,449–3,486 /
    /// 3,472–3,563 / 3,414–3,444 / 3,023–3,239 MB/s, one call in flight 14–18k / 26–27k / 30k / 24–27k GETATTRs/s.
    /// </summary>
    public int ReceiveThreads { get; set; } = DefaultReceiveThreads;

    /// <summary>Two per core (see <see cref="ReceiveThreads"/>).</summary>
    public static int DefaultReceiveThreads => 2 * Environment.ProcessorCount;

    /// <summary>Listen backlog per endpoint.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// Load balancers whose connections must start with a PROXY protocol header naming the real client (RpcServer.Proxy.cs).
    /// Empty (the default): no peer is trusted and no header is ever read.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; set; } = [];

    /// <summary>How long a trusted balancer may take to send its PROXY header (it sends it at once on connect; 10 s absorbs a loaded host).</summary>
    public TimeSpan ProxyHeaderTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
