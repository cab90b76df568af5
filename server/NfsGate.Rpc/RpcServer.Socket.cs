using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NfsGate.Rpc;

public sealed partial class RpcServer
{
    /// <summary>
    /// A connected socket as a duplex pipe (through a <see cref="NetworkStream"/>), plus the direct send for large
    /// replies. The record mark and the body leave in one sendmsg (a gathered send), so a 1 MiB READ reply costs one
    /// system call and the kernel's own copy, as a writev from a C server does.
    /// </summary>
    private sealed class SocketPipe(Socket socket, PipeReader input, PipeWriter output) : IDuplexPipe, IDirectRecordSender, IBlockingReceiver
    {
        // Reused: sends on one connection are serialized by its write lock.
        private readonly byte[] _mark = new byte[RecordMarking.HeaderSize];
        private readonly ArraySegment<byte>[] _parts = new ArraySegment<byte>[2];

        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;

        // poll(2), then recv(2) of what is there: both plain system calls on this thread. A receive that had to wait
        // inside Socket would park on the runtime's socket engine instead, which is the thread hop this path avoids.
        public int Receive(Span<byte> buffer, int timeoutMs)
        {
            if (!socket.Poll((int)Math.Min(timeoutMs * 1000L, int.MaxValue), SelectMode.SelectRead)) return -1;
            return socket.Receive(buffer, SocketFlags.None);
        }

        public bool HasPending => socket.Available > 0;

        public void StopReceiving()
        {
            // shutdown(SHUT_RD) wakes a blocked poll with end-of-stream; replies can still be sent.
            try { socket.Shutdown(SocketShutdown.Receive); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }

        public async ValueTask SendRecordAsync(ReadOnlyMemory<byte> body, CancellationToken ct)
        {
            RecordMarking.WriteHeader(_mark, body.Length);
            if (!MemoryMarshal.TryGetArray(body, out var segment))
            {
                await SendAllAsync(_mark, ct).ConfigureAwait(false);
                await SendAllAsync(body, ct).ConfigureAwait(false);
                return;
            }
            _parts[0] = new ArraySegment<byte>(_mark);
            _parts[1] = segment;
            int total = RecordMarking.HeaderSize + body.Length;
            // The list overload takes no token. A peer that stops reading would hold this send (and the connection's
            // write lock) forever, so cancelling closes the socket under it, as a cancelled pipe flush does.
            int sent;
            using (ct.CanBeCanceled ? ct.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket) : default)
            {
                ct.ThrowIfCancellationRequested();
                // Socket.SendAsync(IList) on a stream socket completes when everything was sent; the rest-loop below
                // only guards against a platform that returns early.
                try
                {
                    sent = await socket.SendAsync(_parts, SocketFlags.None).ConfigureAwait(false);
                }
                finally
                {
                    _parts[1] = default; // do not keep a reference to the pooled reply buffer
                }
            }
            if (sent >= total) return;
            if (sent < RecordMarking.HeaderSize)
            {
                await SendAllAsync(_mark.AsMemory(sent), ct).ConfigureAwait(false);
                sent = RecordMarking.HeaderSize;
            }
            await SendAllAsync(body[(sent - RecordMarking.HeaderSize)..], ct).ConfigureAwait(false);
        }

        private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            while (!data.IsEmpty)
            {
                int n = await socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
                if (n <= 0) throw new IOException("socket send made no progress");
                data = data[n..];
            }
        }
    }
}
