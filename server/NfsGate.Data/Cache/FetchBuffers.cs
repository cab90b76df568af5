using System.Collections.Concurrent;

namespace NfsGate.Data.Cache;

/// <summary>
/// Buffers of one exact size for whole-object fetches on a cache miss, at most <c>keep</c> of them kept between uses.
/// Not ArrayPool.Shared: it rounds 4 MiB + 64 KiB + 1 up to an 8 MiB array and keeps up to 32 of those per core, so
/// a burst of cold reads left hundreds of MiB of idle buffers behind (a bench run peaked at 1,114 MiB RSS).
/// </summary>
internal sealed class FetchBuffers(int size, int keep)
{
    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _kept;

    public int Size => size;

    /// <summary>Buffers kept now (for tests).</summary>
    public int Kept => Volatile.Read(ref _kept);

    public byte[] Rent()
    {
        if (_free.TryDequeue(out var b))
        {
            Interlocked.Decrement(ref _kept);
            return b;
        }
        // Uninitialized: the fetch overwrites what it returns, and only that part is read.
        return GC.AllocateUninitializedArray<byte>(size);
    }

    public void Return(byte[] buffer)
    {
        if (buffer.Length != size) throw new ArgumentException("not a buffer of this pool", nameof(buffer));
        if (Interlocked.Increment(ref _kept) <= keep) _free.Enqueue(buffer);
        else Interlocked.Decrement(ref _kept); // over the cap: left to the GC
    }
}
