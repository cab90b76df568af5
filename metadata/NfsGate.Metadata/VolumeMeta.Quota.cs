using System.Buffers.Binary;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>A volume's limits: bytes (sum of regular file sizes) and inodes; 0 = no limit.</summary>
public readonly record struct VolumeQuota(ulong Bytes, ulong Inodes)
{
    public static readonly VolumeQuota None = new(0, 0);
    public bool IsNone => Bytes == 0 && Inodes == 0;
}

/// <summary>
/// Per-volume quotas. The limit lives in the volume's own keys ('V' vol 'q'), so the check reads it in the same
/// transaction as the usage counters it compares against: two writers racing for the last bytes cannot both
/// pass (transactions are serializable). Volumes without a quota key pay one Get per growing operation.
/// </summary>
public sealed partial class VolumeMeta
{
    /// <summary>Sets (or with <see cref="VolumeQuota.None"/> clears) the volume's quota. Usage above a new, lower limit stays; only growth is refused.</summary>
    public static void SetQuota(IKvStore kv, uint vol, VolumeQuota q) => kv.Transact(t =>
    {
        if (q.IsNone) t.Delete(Keys.Quota(vol));
        else t.Set(Keys.Quota(vol), EncodeQuota(q));
        return true;
    }, durable: true);

    public static VolumeQuota GetQuota(IKvStore kv, uint vol) => kv.Read(r => r.Get(Keys.Quota(vol)) is { } v ? DecodeQuota(v) : VolumeQuota.None);

    /// <summary>
    /// DQuot when adding <paramref name="addBytes"/> bytes and <paramref name="addInodes"/> inodes would go over the
    /// quota. Only growth is checked, so a volume over a lowered limit can still shrink.
    /// </summary>
    internal static FsStatus CheckQuota(IKvTxn t, uint vol, long addBytes, long addInodes)
    {
        if (addBytes <= 0 && addInodes <= 0) return FsStatus.Ok;
        if (t.Get(Keys.Quota(vol)) is not { } v) return FsStatus.Ok;
        var q = DecodeQuota(v);
        var used = QuotaUsage(t, vol); // VolumeMeta.Trash.cs: the trash does not count
        if (q.Bytes != 0 && addBytes > 0 && used.UsedBytes + (ulong)addBytes > q.Bytes) return FsStatus.DQuot;
        if (q.Inodes != 0 && addInodes > 0 && used.Inodes + (ulong)addInodes > q.Inodes) return FsStatus.DQuot;
        return FsStatus.Ok;
    }

    private static long Counter(IKvReader r, byte[] key) => r.Get(key) is { } b ? BinaryPrimitives.ReadInt64BigEndian(b) : 0;

    public static byte[] EncodeQuota(VolumeQuota q)
    {
        var b = new byte[17];
        b[0] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(1), q.Bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(9), q.Inodes);
        return b;
    }

    public static VolumeQuota DecodeQuota(ReadOnlySpan<byte> s)
    {
        if (s.Length != 17 || s[0] != 1) throw new InvalidDataException("bad quota value");
        return new VolumeQuota(BinaryPrimitives.ReadUInt64LittleEndian(s[1..]), BinaryPrimitives.ReadUInt64LittleEndian(s[9..]));
    }
}
