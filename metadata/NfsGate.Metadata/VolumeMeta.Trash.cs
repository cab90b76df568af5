using System.Buffers.Binary;
using System.Text;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>One removed file waiting in a volume's trash.</summary>
public readonly record struct TrashEntry(ulong Id, long DeletedMs, ulong Dir, string Name, ulong Inode, FileType Type, ulong Size);

/// <summary>
/// Per-volume trash. With a retention set ('V' vol 'r'), REMOVE of a file's last name does not free the inode: it
/// moves the name into the volume's trash directory and records where it came from ('V' vol 'T' id). The inode,
/// its chunks and its usage stay as they are, so the data is never referenced by nothing (gc keeps it) and an
/// admin restore is one rename back. Purging an expired entry frees the inode the ordinary way: its slices go
/// through the delayed-delete queue.
/// <para>
/// The trash directory is a real directory whose only name is an entry in itself (".nfsgate-trash"): no directory
/// of the namespace lists it, no handle to it is ever issued (trashed objects are never directories, so no ".."
/// leads to it), and fsck sees what it expects of any directory (one name, parent = the directory listing it, nlink
/// = 2 + subdirectories). The usage counters still include trashed files (fsck checks them against the inodes),
/// but the quota does not: trash counters ('V' vol 'b' bytes, 'i' inodes) are subtracted, so a team at its quota
/// frees room by removing files, as on a local file system, without waiting for the retention to pass.
/// </para>
/// </summary>
public sealed partial class VolumeMeta
{
    private static readonly byte[] TrashSelfName = ".nfsgate-trash"u8.ToArray();

    /// <summary>Zero turns the trash off (entries already in it stay until purged or restored).</summary>
    public static void SetTrashRetention(IKvStore kv, uint vol, TimeSpan retention) => kv.Transact(t =>
    {
        if (retention <= TimeSpan.Zero) t.Delete(Keys.TrashRetention(vol));
        else t.Set(Keys.TrashRetention(vol), Codec.EncodeU64((ulong)retention.TotalSeconds));
        return true;
    }, durable: true);

    public static TimeSpan GetTrashRetention(IKvStore kv, uint vol) =>
        kv.Read(r => r.Get(Keys.TrashRetention(vol)) is { } v ? TimeSpan.FromSeconds(Codec.DecodeU64(v)) : TimeSpan.Zero);

    private static bool TrashOn(IKvReader r, uint vol) => r.Get(Keys.TrashRetention(vol)) is not null;

    /// <summary>
    /// Called by REMOVE instead of <see cref="MetaTxn.Unlink"/> when the trash is on and this is the file's last name
    /// (the dentry is already removed): the inode gets a name in the trash directory instead.
    /// </summary>
    private static void MoveToTrash(MetaTxn tx, ref Attr o, ulong dir, string name)
    {
        ulong trash = TrashDir(tx);
        ulong id = (ulong)tx.Kv.IncrementBy(Keys.TrashSeq(tx.Vol), 1);
        tx.AddEntry(trash, Encoding.ASCII.GetBytes(id.ToString("x16")), o.Type, o.Inode);
        tx.Kv.Set(Keys.TrashEntry(tx.Vol, id), EncodeTrash(NowMs(tx.Now), dir, name, TrashedBytes(o)));
        tx.Kv.IncrementBy(Keys.TrashBytes(tx.Vol), (long)TrashedBytes(o));
        tx.Kv.IncrementBy(Keys.TrashInodes(tx.Vol), 1);
        o.Ctime = tx.Now;
        tx.PutAttr(o);
    }

    /// <summary>The trash directory's inode, created in this transaction if missing.</summary>
    private static ulong TrashDir(MetaTxn tx)
    {
        if (tx.Kv.Get(Keys.TrashDir(tx.Vol)) is { } v) return Codec.DecodeU64(v);
        var d = new Attr
        {
            Inode = tx.NewInode(), Generation = MetaTxn.NewGeneration(), Type = FileType.Directory, Mode = 0x1C0 /* 0700 */,
            Nlink = 3 /* 2 + itself as a subdirectory */, Atime = tx.Now, Mtime = tx.Now, Ctime = tx.Now,
        };
        d.Parent = d.Inode;
        tx.PutAttr(d);
        tx.AddEntry(d.Inode, TrashSelfName, FileType.Directory, d.Inode);
        tx.AddUsage(0, 1);
        tx.Kv.Set(Keys.TrashDir(tx.Vol), Codec.EncodeU64(d.Inode));
        return d.Inode;
    }

    /// <summary>The trash's entries, oldest first (at most <paramref name="max"/>).</summary>
    public static IReadOnlyList<TrashEntry> ListTrash(IKvStore kv, uint vol, int max = 10_000) => kv.Read(r =>
    {
        var list = new List<TrashEntry>();
        foreach (var (k, v) in r.Scan(Keys.TrashEntry(vol, 0), Keys.TrashEntryEnd(vol), max))
        {
            ulong id = BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(Keys.VolumePrefixLength + 1));
            var (ms, dir, name, _) = DecodeTrash(v);
            var dv = r.Get(Keys.TrashDir(vol));
            ulong ino = 0; FileType type = 0; ulong size = 0;
            if (dv is not null && r.Get(Keys.Dentry(vol, Codec.DecodeU64(dv), Encoding.ASCII.GetBytes(id.ToString("x16")))) is { } e)
            {
                (type, ino, _) = Codec.DecodeDentry(e);
                if (r.Get(Keys.Attr(vol, ino)) is { } av) size = Codec.DecodeAttr(ino, av).Size;
            }
            list.Add(new TrashEntry(id, ms, dir, name, ino, type, size));
        }
        return list;
    });

    /// <summary>
    /// Puts a trashed file back: under its old name in its old directory, or — if that directory is gone or the name
    /// is taken — in the root as "name.restored-ID". NoEnt if there is no such entry. Returns where it went.
    /// </summary>
    public static FsStatus RestoreTrash(IKvStore kv, uint vol, ulong id, out ulong restoredDir, out string restoredName)
    {
        var now = Timespec.Now();
        var (st, d, n) = kv.Transact(t =>
        {
            var tx = new MetaTxn(t, vol, now);
            if (!TakeFromTrash(tx, id, out var o, out var dir, out var name)) return (FsStatus.NoEnt, 0UL, "");
            if (!tx.TryGetAttr(dir, out var da) || da.Type != FileType.Directory) dir = INamespace.RootInode;
            var nameBytes = MetaTxn.NameBytes(name);
            if (tx.TryGetDentry(dir, nameBytes, out _, out _, out _))
            {
                dir = INamespace.RootInode;
                name = $"{(name.Length > 200 ? name[..200] : name)}.restored-{id}";
                nameBytes = MetaTxn.NameBytes(name);
                if (tx.TryGetDentry(dir, nameBytes, out _, out _, out _)) return (FsStatus.Exist, 0UL, "");
            }
            tx.AddEntry(dir, nameBytes, o.Type, o.Inode);
            o.Ctime = now;
            tx.PutAttr(o);
            tx.TryGetAttr(dir, out var parent);
            parent.Mtime = parent.Ctime = now;
            tx.PutAttr(parent);
            return (FsStatus.Ok, dir, name);
        }, durable: true);
        restoredDir = d;
        restoredName = n;
        return st;
    }

    /// <summary>Frees the entries deleted before <paramref name="now"/> minus the retention (all of them when the trash is off). Returns how many.</summary>
    public static int PurgeTrash(IKvStore kv, uint vol, DateTimeOffset now, int max = 1000)
    {
        var retention = GetTrashRetention(kv, vol);
        long cutoffMs = now.ToUnixTimeMilliseconds() - (long)retention.TotalMilliseconds;
        var due = kv.Read(r =>
        {
            var ids = new List<ulong>();
            foreach (var (k, v) in r.Scan(Keys.TrashEntry(vol, 0), Keys.TrashEntryEnd(vol), max))
                if (DecodeTrash(v).DeletedMs <= cutoffMs) ids.Add(BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(Keys.VolumePrefixLength + 1)));
            return ids;
        });
        if (due.Count == 0) return 0;
        var ts = Timespec.Now();
        return kv.Transact(t =>
        {
            var tx = new MetaTxn(t, vol, ts);
            int n = 0;
            foreach (var id in due)
            {
                if (!TakeFromTrash(tx, id, out var o, out _, out _)) continue;
                tx.FreeInode(o);
                n++;
            }
            return n;
        });
    }

    /// <summary>Removes entry <paramref name="id"/> from the trash directory and the records; the inode stays, nameless.</summary>
    private static bool TakeFromTrash(MetaTxn tx, ulong id, out Attr o, out ulong dir, out string name)
    {
        o = default; dir = 0; name = "";
        var rec = tx.Kv.Get(Keys.TrashEntry(tx.Vol, id));
        if (rec is null || tx.Kv.Get(Keys.TrashDir(tx.Vol)) is not { } tv) return false;
        ulong trash = Codec.DecodeU64(tv);
        (_, dir, name, ulong bytes) = DecodeTrash(rec);
        tx.Kv.Delete(Keys.TrashEntry(tx.Vol, id));
        tx.Kv.IncrementBy(Keys.TrashBytes(tx.Vol), -(long)bytes);
        tx.Kv.IncrementBy(Keys.TrashInodes(tx.Vol), -1);
        var idName = Encoding.ASCII.GetBytes(id.ToString("x16"));
        if (!tx.TryGetDentry(trash, idName, out _, out var ino, out var seq)) return false;
        tx.RemoveEntry(trash, idName, seq);
        return tx.TryGetAttr(ino, out o);
    }

    private static ulong TrashedBytes(in Attr a) => a.Type == FileType.Regular ? a.Size : 0;

    /// <summary>What the quota counts: the usage counters minus the trash's (the trash directory itself counts as one inode of it).</summary>
    public static VolumeUsage QuotaUsage(IKvStore kv, uint vol) => kv.Read(r => QuotaUsage(r, vol));

    internal static VolumeUsage QuotaUsage(IKvReader r, uint vol)
    {
        long bytes = Counter(r, Keys.UsedBytes(vol)) - Counter(r, Keys.TrashBytes(vol));
        long inodes = Counter(r, Keys.InodeCount(vol)) - Counter(r, Keys.TrashInodes(vol)) - (r.Get(Keys.TrashDir(vol)) is null ? 0 : 1);
        return new VolumeUsage((ulong)Math.Max(0, bytes), (ulong)Math.Max(0, inodes));
    }

    private static long NowMs(Timespec now) => now.Seconds * 1000 + now.Nanos / 1_000_000;

    private static byte[] EncodeTrash(long deletedMs, ulong dir, string name, ulong bytes)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        var b = new byte[1 + 8 + 8 + 8 + n];
        b[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(1), deletedMs);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(9), dir);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(17), bytes);
        Encoding.UTF8.GetBytes(name, b.AsSpan(25));
        return b;
    }

    /// <summary>Bytes = the size counted into the trash counters when it was trashed (taken out again exactly).</summary>
    private static (long DeletedMs, ulong Dir, string Name, ulong Bytes) DecodeTrash(ReadOnlySpan<byte> s)
    {
        if (s.Length < 25 || s[0] != 1) throw new InvalidDataException("bad trash entry");
        return (BinaryPrimitives.ReadInt64LittleEndian(s[1..]), BinaryPrimitives.ReadUInt64LittleEndian(s[9..]),
            Encoding.UTF8.GetString(s[25..]), BinaryPrimitives.ReadUInt64LittleEndian(s[17..]));
    }
}
