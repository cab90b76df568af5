namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    /// <summary>Cookies of "." and ".."; entries get sequence numbers from 3 on (see <see cref="MetaTxn.AddEntry"/>).</summary>
    public const ulong DotCookie = 1, DotDotCookie = 2;

    /// <summary>
    /// READDIR/READDIRPLUS. A cookie is the entry's per-directory sequence number, assigned at insertion and never
    /// reused, and the listing walks the sequence index from cookie+1 in key order: each page costs one range scan,
    /// entries added during a listing appear at the end, removed ones simply vanish, and no survivor is skipped or
    /// repeated. The cookie verifier is the directory's generation, constant for its life, so cookies never expire;
    /// a cookie of a removed entry is still valid (listing continues after it). Needs read permission on the directory.
    /// </summary>
    public ReadDirResult ReadDir(Credential cred, ulong dir, ulong cookie, ulong cookieVerifier, int maxEntries, bool withAttrs)
    {
        if (maxEntries < 1) maxEntries = 1;
        return _kv.Read(r =>
        {
            var res = new ReadDirResult();
            var dv = r.Get(Keys.Attr(_vol, dir));
            if (dv is null) { res.Status = FsStatus.Stale; return res; }
            var d = Codec.DecodeAttr(dir, dv);
            res.Dir = d;
            res.CookieVerifier = d.Generation;
            if (d.Type != FileType.Directory) { res.Status = FsStatus.NotDir; return res; }
            if (cookie != 0 && cookieVerifier != 0 && cookieVerifier != d.Generation) { res.Status = FsStatus.BadCookie; return res; }
            if (!Permissions.Allows(cred, d, Permissions.Read)) { res.Status = FsStatus.Acces; return res; }

            if (cookie == 0)
                res.Entries.Add(new DirEntry(".", dir, DotCookie, withAttrs ? d : null));
            if (cookie < DotDotCookie && res.Entries.Count < maxEntries)
            {
                ulong parent = d.Parent == 0 ? dir : d.Parent;
                Attr? pa = null;
                if (withAttrs)
                {
                    if (parent == dir) pa = d;
                    else if (r.Get(Keys.Attr(_vol, parent)) is byte[] pv) pa = Codec.DecodeAttr(parent, pv);
                }
                res.Entries.Add(new DirEntry("..", parent, DotDotCookie, pa));
            }
            int room = maxEntries - res.Entries.Count;
            ulong from = Math.Max(cookie, DotDotCookie) + 1;
            if (from == 0) { res.Eof = true; return res; } // cookie was ulong.MaxValue: nothing can follow
            // One more than fits tells whether this page reaches the end.
            var page = r.Scan(Keys.ReadDirIndex(_vol, dir, from), Keys.ReadDirIndexEnd(_vol, dir), room + 1);
            int n = Math.Min(room, page.Count);
            for (int i = 0; i < n; i++)
            {
                var (ino, _, name) = Codec.DecodeIndex(page[i].Value);
                ulong seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(page[i].Key.AsSpan(Keys.InodePrefixLength + 1));
                Attr? ea = null;
                if (withAttrs && r.Get(Keys.Attr(_vol, ino)) is byte[] ev) ea = Codec.DecodeAttr(ino, ev);
                res.Entries.Add(new DirEntry(name, ino, seq, ea));
            }
            res.Eof = page.Count <= room;
            return res;
        });
    }
}
