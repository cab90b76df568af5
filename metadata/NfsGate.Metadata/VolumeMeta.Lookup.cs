using System.Text;

namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    public OpResult Lookup(Credential cred, ulong dir, string name)
    {
        // A UTF-16 char is at most 3 UTF-8 bytes; only an over-long name (NameTooLong anyway) takes the heap.
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        Span<byte> bytes = max <= 3 * Names.MaxNameBytes + 3 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(name, bytes);
        var r = LookupUtf8(cred, dir, bytes[..n]);
        return new OpResult { Status = r.Status, Obj = r.Obj, Dir = r.Dir };
    }

    /// <summary>
    /// LOOKUP with the name as UTF-8 bytes, allocating nothing: three point reads (directory, entry, object) of the
    /// latest committed state instead of one snapshot. That is still a consistent answer: the permission check uses the
    /// directory as read, the entry is read after it, and inode numbers are never reused, so the object read last is
    /// the one the entry named (or gone: NoEnt, as if the lookup had run after the remove).
    /// </summary>
    public LookupResult LookupUtf8(Credential cred, ulong dir, ReadOnlySpan<byte> name)
    {
        Span<byte> key = stackalloc byte[Keys.InodePrefixLength + 1 + Names.MaxNameBytes];
        Span<byte> buf = stackalloc byte[ValueScratch];
        int kn = Keys.Attr(_vol, dir, key);
        if (!TryGetLatest(key[..kn], buf, out var dv)) return new LookupResult { Status = FsStatus.Stale };
        var d = Codec.DecodeAttr(dir, dv);
        var res = new LookupResult { Dir = d };
        if (d.Type != FileType.Directory) return res.With(FsStatus.NotDir);
        if (name.Length > Names.MaxNameBytes) return res.With(FsStatus.NameTooLong);
        if (!Permissions.Allows(cred, d, Permissions.Exec)) return res.With(FsStatus.Acces);
        ulong ino;
        if (name.SequenceEqual("."u8)) ino = dir;
        else if (name.SequenceEqual(".."u8)) ino = d.Parent == 0 ? dir : d.Parent;
        else
        {
            kn = Keys.Dentry(_vol, dir, name, key);
            if (!TryGetLatest(key[..kn], buf, out var e)) return res.With(FsStatus.NoEnt);
            ino = Codec.DecodeDentry(e).Ino;
        }
        if (ino == dir) { res.Obj = d; return res; }
        kn = Keys.Attr(_vol, ino, key);
        if (!TryGetLatest(key[..kn], buf, out var ov)) return res.With(FsStatus.NoEnt);
        res.Obj = Codec.DecodeAttr(ino, ov);
        return res;
    }
}
