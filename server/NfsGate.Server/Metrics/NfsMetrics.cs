using System.Collections.Concurrent;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.Server.Logging;
using Prometheus;

namespace NfsGate.Server.Metrics;

/// <summary>
/// The NFSv3 choke point's series: requests by export, procedure and status; latency by export and procedure;
/// data bytes by export and by client (client addresses bounded by <see cref="ClientLabels"/>); calls in flight;
/// slow calls. Also pushes the request's log context and writes the slow-operation log.
/// Label children are cached per (export, procedure), so a call costs dictionary lookups, not label-array allocations.
/// </summary>
internal sealed class NfsMetrics : INfs3Observer
{
    public const string UnknownExport = "unknown";

    // 100 µs … 6.5 s doubling: a cached GETATTR takes tens of µs, a WRITE that waits for buffer room or a COMMIT that
    // uploads to S3 takes seconds.
    static readonly double[] Buckets = Histogram.ExponentialBuckets(0.0001, 2, 17);

    readonly Counter _requests, _readBytes, _writeBytes, _clientReadBytes, _clientWriteBytes, _slow;
    readonly Histogram _duration;
    readonly Gauge _inFlight;
    readonly ClientLabels _clients;
    readonly SlowOperationLog? _slowLog;
    readonly bool _logContext;
    readonly ConcurrentDictionary<(string Export, Nfs3Proc Proc), ProcSeries> _series = new();
    readonly ConcurrentDictionary<string, ExportSeries> _exports = new();

    public NfsMetrics(IMetricFactory f, ClientLabels clients, SlowOperationLog? slowLog, bool logContext)
    {
        _clients = clients;
        _slowLog = slowLog;
        _logContext = logContext;
        _requests = f.NewCounter("nfsgate_nfs_requests_total", "NFSv3 calls answered, by export, procedure and nfsstat3.", "export", "proc", "status");
        _duration = f.CreateHistogram("nfsgate_nfs_request_duration_seconds", "NFSv3 call latency inside the server (QoS delay included), by export and procedure.",
            new HistogramConfiguration { LabelNames = ["export", "proc"], Buckets = Buckets });
        _readBytes = f.NewCounter("nfsgate_nfs_read_bytes_total", "Data bytes returned by successful READ calls, by export.", "export");
        _writeBytes = f.NewCounter("nfsgate_nfs_write_bytes_total", "Data bytes accepted by successful WRITE calls, by export.", "export");
        _clientReadBytes = f.NewCounter("nfsgate_nfs_client_read_bytes_total",
            $"Data bytes returned by READ, by export and client address (the first {clients.Max} addresses seen; later ones are \"other\").", "export", "client");
        _clientWriteBytes = f.NewCounter("nfsgate_nfs_client_write_bytes_total",
            $"Data bytes accepted by WRITE, by export and client address (the first {clients.Max} addresses seen; later ones are \"other\").", "export", "client");
        _inFlight = f.NewGauge("nfsgate_nfs_requests_in_flight", "NFSv3 calls being served now, by export.", "export");
        _slow = f.NewCounter("nfsgate_nfs_slow_requests_total", "NFSv3 calls slower than log.slowOperation, by export and procedure.", "export", "proc");
    }

    /// <summary>Creates an export's series at zero, so dashboards and alerts see the export before its first call.</summary>
    public void Touch(string export)
    {
        var e = Export(export);
        e.ReadBytes.Publish();
        e.WriteBytes.Publish();
        e.InFlight.Publish();
        foreach (var proc in new[] { Nfs3Proc.GETATTR, Nfs3Proc.LOOKUP, Nfs3Proc.READ, Nfs3Proc.WRITE })
        {
            var s = Series(export, proc);
            s.Status(NfsStat3.NFS3_OK).Publish();
            s.Duration.Publish();
            s.Slow.Publish();
        }
    }

    public IDisposable? OnStarted(RpcCall call, Export? export, Nfs3Proc proc)
    {
        string name = export?.Name ?? UnknownExport;
        var e = Export(name);
        e.InFlight.Inc();
        // Without a log context the export's own cached series is the scope: nothing allocated per call.
        return _logContext ? CallScope.Rent(e.InFlight, RequestLogContext.Push(call.Xid, call.Client.Address, name)) : e;
    }

    public void OnCompleted(RpcCall call, Export? export, Nfs3Proc proc, NfsStat3 status, TimeSpan elapsed, long bytesRead, long bytesWritten)
    {
        string name = export?.Name ?? UnknownExport;
        var s = Series(name, proc);
        s.Status(status).Inc();
        s.Duration.Observe(elapsed.TotalSeconds);
        if (bytesRead > 0 || bytesWritten > 0)
        {
            var e = Export(name);
            string client = _clients.For(call.Client.Address);
            if (bytesRead > 0)
            {
                e.ReadBytes.Inc(bytesRead);
                e.ClientRead(client).Inc(bytesRead);
            }
            if (bytesWritten > 0)
            {
                e.WriteBytes.Inc(bytesWritten);
                e.ClientWrite(client).Inc(bytesWritten);
            }
        }
        if (_slowLog is { } slow && slow.IsSlow(elapsed))
        {
            s.Slow.Inc();
            slow.Write(s.ProcName, name, call.Client.Address, call.Xid, status.ToString(), elapsed);
        }
    }

    ProcSeries Series(string export, Nfs3Proc proc) =>
        _series.TryGetValue((export, proc), out var s) ? s : _series.GetOrAdd((export, proc), k => new ProcSeries(this, k.Export, k.Proc));

    ExportSeries Export(string export) =>
        _exports.TryGetValue(export, out var e) ? e : _exports.GetOrAdd(export, n => new ExportSeries(this, n));

    sealed class ProcSeries(NfsMetrics m, string export, Nfs3Proc proc)
    {
        public readonly string ProcName = proc.ToString();
        public readonly Histogram.Child Duration = m._duration.WithLabels(export, proc.ToString());
        public readonly Counter.Child Slow = m._slow.WithLabels(export, proc.ToString());
        readonly Counter.Child _ok = m._requests.WithLabels(export, proc.ToString(), nameof(NfsStat3.NFS3_OK));
        readonly ConcurrentDictionary<NfsStat3, Counter.Child> _failures = new();

        // Status names come from the enum; a value the enum lacks would be a server bug, labelled by its number
        // (bounded: only statuses this server writes can appear).
        public Counter.Child Status(NfsStat3 s) => s == NfsStat3.NFS3_OK ? _ok
            : _failures.TryGetValue(s, out var c) ? c
            : _failures.GetOrAdd(s, st => m._requests.WithLabels(export, ProcName, st.ToString()));
    }

    sealed class ExportSeries(NfsMetrics m, string export) : IDisposable
    {
        /// <summary>Ends a call's scope when there is no log context to pop.</summary>
        public void Dispose() => InFlight.Dec();

        public readonly Counter.Child ReadBytes = m._readBytes.WithLabels(export);
        public readonly Counter.Child WriteBytes = m._writeBytes.WithLabels(export);
        public readonly Gauge.Child InFlight = m._inFlight.WithLabels(export);
        readonly ConcurrentDictionary<string, Counter.Child> _clientRead = new(), _clientWrite = new();

        public Counter.Child ClientRead(string client) =>
            _clientRead.TryGetValue(client, out var c) ? c : _clientRead.GetOrAdd(client, cl => m._clientReadBytes.WithLabels(export, cl));

        public Counter.Child ClientWrite(string client) =>
            _clientWrite.TryGetValue(client, out var c) ? c : _clientWrite.GetOrAdd(client, cl => m._clientWriteBytes.WithLabels(export, cl));
    }

    // Reused through a one-slot per-thread cache: `using` disposes each scope exactly once, and a call that ends on
    // another thread simply leaves its scope in that thread's slot.
    sealed class CallScope : IDisposable
    {
        [ThreadStatic] static CallScope? t_free;
        Gauge.Child? _inFlight;
        IDisposable? _logContext;

        public static CallScope Rent(Gauge.Child inFlight, IDisposable logContext)
        {
            var s = t_free ?? new CallScope();
            t_free = null;
            s._inFlight = inFlight;
            s._logContext = logContext;
            return s;
        }

        public void Dispose()
        {
            var inFlight = _inFlight;
            if (inFlight is null) return;
            var logContext = _logContext;
            _inFlight = null;
            _logContext = null;
            logContext?.Dispose();
            inFlight.Dec();
            t_free = this;
        }
    }
}
