using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NfsGate.Data;

/// <summary>
/// Writes a whole file with O_DIRECT, so its bytes go to the disk without a copy in the page cache. For a store with a
/// block cache in front: the cache keeps the hot copy in memory, and a second copy of every block in the page cache
/// only costs a memcpy into freshly allocated pages and the memory itself. O_DIRECT wants a buffer, offset and length
/// aligned to the device's block, so the bytes are copied into a pooled aligned buffer, padded with zeros to
/// <see cref="Align"/>, and the file is cut back to its real length. .NET opens no file with O_DIRECT (its
/// NoBuffering option is Windows only), so the flag is set on the open handle with fcntl(F_SETFL).
/// </summary>
internal sealed unsafe partial class DirectWrites : IDisposable
{
    /// <summary>Buffer and length alignment: 4 KiB covers every logical block size Linux disks report.</summary>
    public const int Align = 4096;

    /// <summary>Largest file written this way (the data path's blocks are 4 MiB); bigger ones are written buffered.</summary>
    public const int MaxBytes = 4 << 20;

    /// <summary>Idle buffers kept: uploads run a few at a time, and a freshly allocated buffer costs page faults.</summary>
    private const int Keep = 8;

    private readonly ConcurrentBag<nint> _idle = [];
    private int _disposed;

    /// <summary>
    /// Writes <paramref name="data"/> at offset 0 of the empty file <paramref name="handle"/> with O_DIRECT. False
    /// when the file system refused O_DIRECT (the file is then untouched and the caller writes it buffered).
    /// </summary>
    public bool TryWrite(SafeFileHandle handle, ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data.Length > MaxBytes || Refused || !SetDirect(handle, true)) return false;
        nint buffer = Rent();
        try
        {
            int padded = (data.Length + Align - 1) / Align * Align;
            var span = new Span<byte>((void*)buffer, padded);
            data.CopyTo(span);
            span[data.Length..].Clear();
            try
            {
                RandomAccess.Write(handle, span, 0);
            }
            catch (IOException)
            {
                // Accepted by fcntl, refused by the write (EINVAL: a block size above 4 KiB; or a disk error, which the
                // buffered write then reports): undo what may have landed.
                SetDirect(handle, false);
                RandomAccess.SetLength(handle, 0);
                return false;
            }
            if (padded != data.Length) RandomAccess.SetLength(handle, data.Length);
            return true;
        }
        finally
        {
            Return(buffer);
        }
    }

    private nint Rent() => _idle.TryTake(out var b) ? b : (nint)NativeMemory.AlignedAlloc(MaxBytes, Align);

    private void Return(nint buffer)
    {
        if (Volatile.Read(ref _disposed) == 0 && _idle.Count < Keep) _idle.Add(buffer);
        else NativeMemory.AlignedFree((void*)buffer);
    }

    /// <summary>Tests: behave as on a file system that refuses O_DIRECT (every local one here accepts it, tmpfs too).</summary>
    internal bool Refused { get; set; }

    /// <summary>Buffers in the idle pool (tests).</summary>
    internal int Idle => _idle.Count;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (_idle.TryTake(out var b)) NativeMemory.AlignedFree((void*)b);
    }

    private const int F_GETFL = 3, F_SETFL = 4;
    // O_DIRECT differs between architectures: 040000 on x86-64, 0200000 on arm64.
    private static readonly int O_DIRECT = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    private static bool SetDirect(SafeFileHandle handle, bool on)
    {
        int fd = (int)handle.DangerousGetHandle();
        int flags = Fcntl(fd, F_GETFL, 0);
        if (flags < 0) return false;
        return Fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int cmd, int arg);
}
