using System.Buffers.Binary;

namespace NfsGate.Protocol;

/// <summary>
/// The MACs of recently issued or verified file handles, so GETATTR/LOOKUP on a hot set of files skip the HMAC
/// (decode compares the client's MAC with the cached one; encode copies it). Direct-mapped: a slot holds one
/// immutable entry and a newer handle that hashes to the same slot replaces it, so the memory is fixed
/// (<see cref="Slots"/> entries of ~48 B) and a lookup takes no lock: readers see either the old or the new
/// entry, never a torn one. Only MACs this process computed itself are stored, so a hit is exactly as strong as
/// recomputing. The slot index uses a per-process random seed (HashCode), so a client cannot aim handles at one slot
/// across restarts; a collision only costs an HMAC anyway.
/// </summary>
internal sealed class HandleMacCache
{
    public const int Slots = 1 << 14;

    private readonly Entry?[] _slots = new Entry?[Slots];

    private sealed class Entry(FileHandle handle, ulong mac0, uint mac1)
    {
        public readonly FileHandle Handle = handle;
        public readonly ulong Mac0 = mac0;
        public readonly uint Mac1 = mac1;
    }

    /// <summary>The cached MAC (<see cref="FileHandleCodec.MacSize"/> bytes) of <paramref name="h"/>, if any.</summary>
    public bool TryGet(FileHandle h, out MacBytes mac)
    {
        var e = Volatile.Read(ref _slots[Slot(h)]);
        if (e is not null && e.Handle == h)
        {
            mac = new MacBytes(e.Mac0, e.Mac1);
            return true;
        }
        mac = default;
        return false;
    }

    public void Add(FileHandle h, ReadOnlySpan<byte> mac)
    {
        var e = new Entry(h, BinaryPrimitives.ReadUInt64LittleEndian(mac), BinaryPrimitives.ReadUInt32LittleEndian(mac[8..]));
        Volatile.Write(ref _slots[Slot(h)], e);
    }

    private static int Slot(FileHandle h) => HashCode.Combine(h.ExportId, h.Inode, h.Generation) & (Slots - 1);

    /// <summary>A 12-byte MAC held in two fields, so a lookup copies it without allocating.</summary>
    public readonly struct MacBytes(ulong mac0, uint mac1)
    {
        public void CopyTo(Span<byte> dest)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dest, mac0);
            BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], mac1);
        }
    }
}
