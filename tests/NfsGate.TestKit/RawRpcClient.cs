using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using NfsGate.Rpc;

namespace NfsGate.TestKit;

/// <summary>A credential as a test client sends it: AUTH_NONE, or AUTH_SYS with uid/gid/gids.</summary>
public sealed record RpcClientCredential(AuthFlavor Flavor, uint Uid = 0, uint Gid = 0, uint[]? Gids = null, string MachineName = "testkit", uint Stamp = 0)
{
    public static readonly RpcClientCredential None = new(AuthFlavor.AUTH_NONE);
    public static RpcClientCredential Sys(uint uid, uint gid, params uint[] gids) => new(AuthFlavor.AUTH_SYS, uid, gid, gids);

    /// <summary>Writes this credential as an opaque_auth.</summary>
    public void WriteTo(XdrWriter w)
    {
        w.WriteUInt32((uint)Flavor);
        if (Flavor != AuthFlavor.AUTH_SYS) { w.WriteUInt32(0); return; }
        int lenAt = w.Length;
        w.WriteUInt32(0);
        w.WriteUInt32(Stamp);
        w.WriteString(MachineName);
        w.WriteUInt32(Uid);
        w.WriteUInt32(Gid);
        var gids = Gids ?? [];
        w.WriteUInt32((uint)gids.Length);
        foreach (var g in gids) w.WriteUInt32(g);
        w.PatchUInt32(lenAt, (uint)(w.Length - lenAt - 4));
    }
}

/// <summary>A reply as the server sent it, decoded field by field (RFC 5531 reply_body).</summary>
public sealed record RpcReplyMessage(
    uint Xid,
    ReplyStat ReplyStat,
    AcceptStat AcceptStat,
    RejectStat RejectStat,
    AuthStat AuthStat,
    uint MismatchLow,
    uint MismatchHigh,
    AuthFlavor VerifierFlavor,
    byte[] Results,
    byte[] Raw)
{
    public bool IsSuccess => ReplyStat == ReplyStat.MSG_ACCEPTED && AcceptStat == AcceptStat.SUCCESS;

    /// <summary>Decodes one reply record; throws <see cref="XdrException"/> if it is not a well-formed reply.</summary>
    public static RpcReplyMessage Parse(byte[] raw)
    {
        var r = new XdrReader(raw);
        uint xid = r.ReadUInt32();
        if (r.ReadUInt32() != (uint)MsgType.REPLY) throw new XdrException("not a reply");
        var replyStat = (ReplyStat)r.ReadUInt32();
        AcceptStat accept = default; RejectStat reject = default; AuthStat auth = default; AuthFlavor verf = default;
        uint low = 0, high = 0;
        byte[] results = [];
        if (replyStat == ReplyStat.MSG_ACCEPTED)
        {
            verf = (AuthFlavor)r.ReadUInt32();
            r.ReadOpaque(400);
            accept = (AcceptStat)r.ReadUInt32();
            if (accept == AcceptStat.PROG_MISMATCH) { low = r.ReadUInt32(); high = r.ReadUInt32(); }
            results = r.Rest.ToArray();
        }
        else if (replyStat == ReplyStat.MSG_DENIED)
        {
            reject = (RejectStat)r.ReadUInt32();
            if (reject == RejectStat.RPC_MISMATCH) { low = r.ReadUInt32(); high = r.ReadUInt32(); }
            else if (reject == RejectStat.AUTH_ERROR) auth = (AuthStat)r.ReadUInt32();
            else throw new XdrException($"bad reject_stat {reject}");
            if (r.Remaining != 0) throw new XdrException("trailing bytes after rejected_reply");
        }
        else throw new XdrException($"bad reply_stat {replyStat}");
        return new RpcReplyMessage(xid, replyStat, accept, reject, auth, low, high, verf, results, raw);
    }
}

/// <summary>
/// A small raw ONC RPC client for tests: builds calls byte by byte, sends them (or any raw bytes), keeps several calls
/// outstanding and matches replies by xid, and tells whether the server closed the connection.
/// </summary>
public sealed class RawRpcClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    // Replies are matched by xid; a server may legitimately answer the same xid twice (a replay answered from its
    // duplicate-request cache), so both sides are queues: waiters not yet answered, and replies not yet asked for.
    private readonly object _lock = new();
    private readonly Dictionary<uint, Queue<TaskCompletionSource<RpcReplyMessage>>> _waiters = new();
    private readonly Dictionary<uint, Queue<RpcReplyMessage>> _early = new();
    private Exception? _failure;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readLoop;
    private int _nextXid = Random.Shared.Next();

    private RawRpcClient(Socket socket, int maxReplySize)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _readLoop = ReadLoopAsync(maxReplySize);
    }

    /// <summary>Connects to <paramref name="server"/>, optionally from <paramref name="localAddress"/> (e.g. 127.0.0.2).</summary>
    public static async Task<RawRpcClient> ConnectAsync(IPEndPoint server, IPAddress? localAddress = null, int maxReplySize = 8 * 1024 * 1024, CancellationToken ct = default)
    {
        var s = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (localAddress is not null) s.Bind(new IPEndPoint(localAddress, 0));
            await s.ConnectAsync(server, ct).ConfigureAwait(false);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return new RawRpcClient(s, maxReplySize);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>True once the server closed the connection (or it failed).</summary>
    public bool ServerClosed => _closed.Task.IsCompleted;

    /// <summary>Completes when the connection is closed by the server (or fails).</summary>
    public Task Closed => _closed.Task;

    /// <summary>Waits for the server to close the connection; false if it is still open after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout)
    {
        var t = await Task.WhenAny(_closed.Task, Task.Delay(timeout)).ConfigureAwait(false);
        return t == _closed.Task;
    }

    public uint NextXid() => (uint)Interlocked.Increment(ref _nextXid);

    /// <summary>Builds an unframed call message (rpc_msg) with the given header fields and args.</summary>
    public static byte[] BuildCall(uint xid, uint prog, uint vers, uint proc, ReadOnlySpan<byte> args, RpcClientCredential? credential = null, uint rpcVersion = 2)
    {
        using var w = new XdrWriter(64 + args.Length);
        w.WriteUInt32(xid);
        w.WriteUInt32((uint)MsgType.CALL);
        w.WriteUInt32(rpcVersion);
        w.WriteUInt32(prog);
        w.WriteUInt32(vers);
        w.WriteUInt32(proc);
        (credential ?? RpcClientCredential.None).WriteTo(w);
        w.WriteUInt32((uint)AuthFlavor.AUTH_NONE); // verifier
        w.WriteUInt32(0);
        w.WriteFixedOpaque(args); // args are already XDR (a multiple of 4); no padding is added to those
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Frames <paramref name="message"/> as one record of a single last fragment.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var framed = new byte[message.Length + 4];
        RecordMarking.WriteHeader(framed, message.Length);
        message.CopyTo(framed.AsSpan(4));
        return framed;
    }

    /// <summary>Sends a call and waits for the reply with the same xid.</summary>
    public Task<RpcReplyMessage> CallAsync(uint prog, uint vers, uint proc, ReadOnlySpan<byte> args, RpcClientCredential? credential = null, CancellationToken ct = default)
    {
        uint xid = NextXid();
        var framed = Frame(BuildCall(xid, prog, vers, proc, args, credential));
        return SendAndWaitAsync(xid, framed, ct);
    }

    /// <summary>Sends already framed bytes and waits for the reply to <paramref name="xid"/>.</summary>
    public async Task<RpcReplyMessage> SendAndWaitAsync(uint xid, ReadOnlyMemory<byte> framed, CancellationToken ct = default)
    {
        var reply = ReplyFor(xid);
        await SendRawAsync(framed, ct).ConfigureAwait(false);
        return await reply.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The reply to <paramref name="xid"/>, whether it already arrived or is still to come.
    /// Each call takes one reply: ask twice to get two replies to the same xid.</summary>
    public Task<RpcReplyMessage> ReplyFor(uint xid)
    {
        lock (_lock)
        {
            if (_early.TryGetValue(xid, out var q) && q.Count > 0) return Task.FromResult(q.Dequeue());
            if (_failure is not null) return Task.FromException<RpcReplyMessage>(_failure);
            var tcs = new TaskCompletionSource<RpcReplyMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiters.TryGetValue(xid, out var w)) _waiters[xid] = w = new Queue<TaskCompletionSource<RpcReplyMessage>>();
            w.Enqueue(tcs);
            return tcs.Task;
        }
    }

    /// <summary>Replies that arrived and were not asked for (yet).</summary>
    public int UnclaimedReplies { get { lock (_lock) { int n = 0; foreach (var q in _early.Values) n += q.Count; return n; } } }

    private void Deliver(RpcReplyMessage msg)
    {
        TaskCompletionSource<RpcReplyMessage>? waiter = null;
        lock (_lock)
        {
            if (_waiters.TryGetValue(msg.Xid, out var w) && w.Count > 0) waiter = w.Dequeue();
            else
            {
                if (!_early.TryGetValue(msg.Xid, out var q)) _early[msg.Xid] = q = new Queue<RpcReplyMessage>();
                q.Enqueue(msg);
            }
        }
        waiter?.TrySetResult(msg);
    }

    /// <summary>Sends raw bytes as they are (no framing added). False if the connection is already gone.</summary>
    public async Task<bool> SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync(int maxReplySize)
    {
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 16 << 10, leaveOpen: true));
        using var assembler = new RecordAssembler(maxReplySize);
        Exception? failure = null;
        try
        {
            while (true)
            {
                var rr = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = rr.Buffer;
                while (true)
                {
                    var st = assembler.TryRead(ref buffer, out var record);
                    if (st == RecordStatus.NeedMore) break;
                    if (st == RecordStatus.TooLarge) throw new IOException("reply larger than maxReplySize");
                    byte[] raw = record.Span.ToArray();
                    record.Return();
                    var msg = RpcReplyMessage.Parse(raw);
                    Deliver(msg);
                }
                reader.AdvanceTo(buffer.Start);
                if (rr.IsCompleted) break;
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            var error = failure ?? new IOException("connection closed by the server");
            List<TaskCompletionSource<RpcReplyMessage>> orphans = [];
            lock (_lock)
            {
                _failure = error;
                foreach (var q in _waiters.Values) orphans.AddRange(q);
                _waiters.Clear();
            }
            foreach (var p in orphans) p.TrySetException(error);
            _closed.TrySetResult();
        }
    }

    /// <summary>Half-closes the sending side (the server sees end of stream between records).</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        try { await _readLoop.ConfigureAwait(false); } catch { /* the loop records its own failure */ }
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
