using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using NfsGate.Protocol;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.LoadGen;

/// <summary>
/// One TCP connection that only sends NFSv3 READs of one file and counts the bytes that come back, parsing each reply
/// where it lies in the receive buffer: the data is skipped, never copied out.
/// <para>
/// Why not <see cref="Nfs3Client"/>: it is built for tests and copies a reply three times into fresh arrays (record,
/// results, data), each 1 MiB on the large-object heap for a 1 MiB READ. Measured on the 2-core bench machine it
/// spent 6–7 ms of CPU per MiB read, more than the server it measured (1 GiB warm read: 7.5 s client CPU against
/// 1.9 s for nfsgate), so on a machine the client shares with the servers it, not the server, set the rate.
/// The kernel client that users run copies each byte once; so does this.
/// </para>
/// </summary>
internal sealed class ReadConnection : IAsyncDisposable
{
    /// <summary>RPC reply header, READ3res up to the data: small next to the data, and bounded so a bad reply cannot make it grow.</summary>
    private const int MaxHead = 512;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _call;     // a READ call, framed; xid and offset are patched per call
    private readonly int _xidAt, _offsetAt, _countAt;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, TaskCompletionSource<ReadReply>> _waiting = new();
    private readonly Task _loop;
    private Exception? _failure;
    private uint _xid = (uint)Random.Shared.Next();

    public readonly record struct ReadReply(NfsStat3 Status, uint Count, bool Eof);

    private ReadConnection(Socket socket, byte[] handle, RpcClientCredential credential)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        using var args = new XdrWriter(handle.Length + 16);
        args.WriteOpaque(handle);
        args.WriteUInt64(0);
        args.WriteUInt32(0);
        _call = RawRpcClient.Frame(RawRpcClient.BuildCall(0, Nfs3Const.PROGRAM, Nfs3Const.VERSION, (uint)Nfs3Proc.READ, args.WrittenSpan, credential));
        _xidAt = RecordMarking.HeaderSize; // after the record mark
        _countAt = _call.Length - 4;     // READ3args ends offset, count
        _offsetAt = _countAt - 8;
        _loop = ReceiveLoopAsync();
    }

    public static async Task<ReadConnection> ConnectAsync(IPEndPoint server, byte[] handle, RpcClientCredential? credential = null)
    {
        var s = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await s.ConnectAsync(server).ConfigureAwait(false);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return new ReadConnection(s, handle, credential ?? RpcClientCredential.Sys(0, 0));
    }

    /// <summary>Sends READ(offset, count); completes with the reply's status, data length and eof.</summary>
    public async Task<ReadReply> ReadAsync(ulong offset, uint count)
    {
        var reply = new TaskCompletionSource<ReadReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            uint xid = unchecked(++_xid);
            lock (_lock)
            {
                if (_failure is not null) throw _failure;
                _waiting.Add(xid, reply);
            }
            BinaryPrimitives.WriteUInt32BigEndian(_call.AsSpan(_xidAt), xid);
            BinaryPrimitives.WriteUInt64BigEndian(_call.AsSpan(_offsetAt), offset);
            BinaryPrimitives.WriteUInt32BigEndian(_call.AsSpan(_countAt), count);
            await _stream.WriteAsync(_call).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
        return await reply.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Reply records, one after another: the head (RPC reply header through the READ data's length) is parsed from
    /// a copy of at most <see cref="MaxHead"/> bytes, then the rest of the record (data, padding, any further
    /// fragments) is skipped in place.
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 256 << 10, minimumReadSize: 64 << 10, leaveOpen: true));
        var head = new byte[MaxHead];
        Exception? failure = null;
        try
        {
            while (true)
            {
                // The first fragment's mark and as much of its body as the head needs (a READ reply's head is ~130 bytes).
                var (buffer, done) = await FillAsync(reader, RecordMarking.HeaderSize).ConfigureAwait(false);
                if (done) break;
                var (fragment, last) = ReadMark(reader, buffer);
                int want = Math.Min(fragment, MaxHead);
                (buffer, done) = await FillAsync(reader, want).ConfigureAwait(false);
                if (done) throw new IOException("connection closed inside a reply");
                buffer.Slice(0, want).CopyTo(head);
                var (xid, reply, headLength, dataLength) = ParseHead(head.AsSpan(0, want));
                reader.AdvanceTo(buffer.GetPosition(headLength));
                // What follows the head in the record: the data and its padding (nothing for an error reply).
                long expected = dataLength + XdrReader.Pad(dataLength);
                long rest = fragment - headLength;
                while (true)
                {
                    while (rest > 0)
                    {
                        (buffer, done) = await FillAsync(reader, 1).ConfigureAwait(false);
                        if (done) throw new IOException("connection closed inside a reply");
                        long take = Math.Min(rest, buffer.Length);
                        reader.AdvanceTo(buffer.GetPosition(take));
                        rest -= take;
                        expected -= take;
                    }
                    if (last) break;
                    (buffer, done) = await FillAsync(reader, RecordMarking.HeaderSize).ConfigureAwait(false);
                    if (done) throw new IOException("connection closed inside a reply");
                    (rest, last) = ReadMark(reader, buffer);
                }
                if (expected != 0) throw new IOException($"READ reply xid {xid}: record and data length disagree by {expected} bytes");
                TaskCompletionSource<ReadReply>? waiter;
                lock (_lock) _waiting.Remove(xid, out waiter);
                waiter?.TrySetResult(reply);
            }
        }
        catch (Exception x)
        {
            failure = x;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        List<TaskCompletionSource<ReadReply>> orphans;
        lock (_lock)
        {
            _failure = failure ?? new IOException("connection closed by the server");
            orphans = [.. _waiting.Values];
            _waiting.Clear();
        }
        foreach (var o in orphans) o.TrySetException(_failure);
    }

    /// <summary>Reads until at least <paramref name="min"/> bytes are buffered; done if the stream ended cleanly first.</summary>
    private static async ValueTask<(ReadOnlySequence<byte> Buffer, bool Done)> FillAsync(PipeReader reader, int min)
    {
        while (true)
        {
            var r = await reader.ReadAsync().ConfigureAwait(false);
            if (r.Buffer.Length >= min) return (r.Buffer, false);
            if (r.IsCompleted)
            {
                if (r.Buffer.Length == 0) return (r.Buffer, true);
                throw new IOException("connection closed inside a reply");
            }
            reader.AdvanceTo(r.Buffer.Start, r.Buffer.End);
        }
    }

    /// <summary>Decodes the fragment header at the start of <paramref name="buffer"/> (RFC 5531 §11) and consumes it.</summary>
    private static (int Length, bool Last) ReadMark(PipeReader reader, ReadOnlySequence<byte> buffer)
    {
        Span<byte> m = stackalloc byte[RecordMarking.HeaderSize];
        buffer.Slice(0, RecordMarking.HeaderSize).CopyTo(m);
        reader.AdvanceTo(buffer.GetPosition(RecordMarking.HeaderSize));
        uint mark = BinaryPrimitives.ReadUInt32BigEndian(m);
        return ((int)(mark & ~RecordMarking.LastFragmentBit), (mark & RecordMarking.LastFragmentBit) != 0);
    }

    /// <summary>RFC 5531 accepted reply, then RFC 1813 READ3res up to and including the data's length.</summary>
    private static (uint Xid, ReadReply Reply, int HeadLength, int DataLength) ParseHead(ReadOnlySpan<byte> head)
    {
        var r = new XdrReader(head);
        uint xid = r.ReadUInt32();
        if (r.ReadUInt32() != (uint)MsgType.REPLY) throw new IOException("not a reply");
        if (r.ReadUInt32() != (uint)ReplyStat.MSG_ACCEPTED) throw new IOException($"xid {xid}: call denied");
        r.ReadUInt32();            // verifier flavor
        r.ReadOpaque(400);         // verifier body
        uint accept = r.ReadUInt32();
        if (accept != (uint)AcceptStat.SUCCESS) throw new IOException($"xid {xid}: accept_stat {accept}");
        var status = (NfsStat3)r.ReadUInt32();
        Fattr3.ReadPostOp(ref r);
        if (status != NfsStat3.NFS3_OK) return (xid, new ReadReply(status, 0, false), r.Position, 0);
        uint count = r.ReadUInt32();
        bool eof = r.ReadBool();
        uint length = r.ReadUInt32();
        if (length != count || length > int.MaxValue) throw new IOException($"xid {xid}: READ count {count} but {length} data bytes");
        return (xid, new ReadReply(status, count, eof), r.Position, (int)length);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        try { await _loop.ConfigureAwait(false); } catch { /* the loop records its own failure */ }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _sendLock.Dispose();
    }
}
