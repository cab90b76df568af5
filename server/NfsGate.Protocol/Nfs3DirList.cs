using System.Text;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// The reply READDIR and READDIRPLUS share: dirlist3 / dirlistplus3 fitted into the client's byte budgets. Both
/// procedures answer by the same rule — how many entries to ask the namespace for, how many of those fit, when not
/// even one fits (NFS3ERR_TOOSMALL), when eof may be said — so the rule lives here once; what differs is the size of
/// one entry and the attributes and handle that follow each entryplus3.
/// </summary>
internal static class Nfs3DirList
{
    /// <summary>
    /// Bytes of READDIR3res / READDIRPLUS3res outside the entries, counted as if the attributes follow: status 4
    /// + post_op_attr 88 + cookieverf 8 + the list's final "no more entries" 4 + eof 4.
    /// </summary>
    internal const int FixedReplySize = 4 + Nfs3Xdr.PostOpAttrSize + 8 + 4 + 4;
    /// <summary>Entries asked of the namespace per call at most; bounds the work a huge count can cause.</summary>
    internal const int MaxEntriesPerCall = 4096;
    /// <summary>post_op_fh3 with our handle: bool 4 + length 4 + 29 bytes + 3 pad.</summary>
    private const int PostOpFhSize = 4 + 4 + FileHandleCodec.Size + 3;
    /// <summary>The smallest entry3 is 28 bytes (a 1-byte name, see <see cref="EntrySize"/>).</summary>
    private const int SmallestEntry = 28;
    /// <summary>The smallest entryplus3 with attributes and handle: 28 + 88 + 40 = 156 bytes.</summary>
    private const int SmallestEntryPlus = SmallestEntry + Nfs3Xdr.PostOpAttrSize + PostOpFhSize;

    /// <summary>
    /// Lists the directory from <paramref name="cookie"/> and writes the whole reply.
    /// </summary>
    /// <param name="maxcount">Bytes of the whole reply (READDIR's count, READDIRPLUS's maxcount).</param>
    /// <param name="dircount">READDIRPLUS's dircount: counts only what READDIR would send of each entry, and never
    /// refuses the first entry. READDIR has none: it passes <see cref="uint.MaxValue"/>.</param>
    /// <param name="plus">READDIRPLUS: each entry carries its attributes and handle.</param>
    public static ValueTask Send(Nfs3Request q, ulong cookie, ulong verf, uint maxcount, uint dircount, bool plus)
    {
        if (q.Attr.Type != FileType.Directory)
        {
            q.Status(NfsStat3.NFS3ERR_NOTDIR);
            q.PostOp(q.Attr);
            return ValueTask.CompletedTask;
        }
        int budget = (int)Math.Min(maxcount, int.MaxValue);
        // Never ask for more entries than could fit if each were the smallest possible.
        int want = Math.Clamp((budget - FixedReplySize) / (plus ? SmallestEntryPlus : SmallestEntry) + 1, 1, MaxEntriesPerCall);
        var res = q.Vol.ReadDir(q.Cred, q.Ino, cookie, verf, want, withAttrs: plus);
        if (res.Status != FsStatus.Ok)
        {
            q.Status(res.Status);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }

        int fit = Fit(res.Entries, budget, dircount, plus);
        if (fit == 0 && (res.Entries.Count > 0 || FixedReplySize > budget))
        {
            q.Status(NfsStat3.NFS3ERR_TOOSMALL);
            q.PostOp(res.Dir ?? q.Attr);
            return ValueTask.CompletedTask;
        }

        var w = q.W;
        q.Status(NfsStat3.NFS3_OK);
        q.PostOp(res.Dir ?? q.Attr);
        w.WriteUInt64(res.CookieVerifier);
        for (int i = 0; i < fit; i++)
        {
            var e = res.Entries[i];
            w.WriteBool(true);
            w.WriteUInt64(e.Inode);
            w.WriteString(e.Name);
            w.WriteUInt64(e.Cookie);
            if (!plus) continue;
            q.PostOp(e.Attr);
            // Without attributes the generation is unknown, so no handle: the client falls back to LOOKUP.
            q.PostOpFh(e.Attr);
        }
        w.WriteBool(false);
        // eof only when the namespace said the listing ended and every entry it gave was sent.
        w.WriteBool(res.Eof && fit == res.Entries.Count);
        return ValueTask.CompletedTask;
    }

    /// <summary>How many entries, from the first, fit in <paramref name="budget"/> bytes of reply and <paramref name="dirBudget"/> bytes of directory part.</summary>
    private static int Fit(List<DirEntry> entries, int budget, long dirBudget, bool plus)
    {
        int used = FixedReplySize;
        long dirUsed = 0;
        int fit = 0;
        foreach (var e in entries)
        {
            int dirSize = EntrySize(e.Name);
            int size = !plus ? dirSize : dirSize + (e.Attr is null ? 8 : Nfs3Xdr.PostOpAttrSize + PostOpFhSize);
            if (used + size > budget) break;
            if (fit > 0 && dirUsed + dirSize > dirBudget) break;
            used += size;
            dirUsed += dirSize;
            fit++;
        }
        return fit;
    }

    /// <summary>entry3 on the wire: value_follows 4 + fileid 8 + name (4 + bytes + pad) + cookie 8.</summary>
    internal static int EntrySize(string name)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        return 4 + 8 + 4 + n + XdrReader.Pad(n) + 8;
    }
}
