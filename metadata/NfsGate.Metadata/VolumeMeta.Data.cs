namespace NfsGate.Metadata;

public sealed partial class VolumeMeta
{
    public OpResult BeginWrite(Credential cred, ulong ino, ulong offset, uint count)
    {
        var now = Timespec.Now();
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            var res = new OpResult();
            if (!tx.TryGetAttr(ino, out var a)) return OpResult.Fail(FsStatus.Stale);
            res.Obj = a;
            res.ObjBefore = a.Wcc;
            if (a.Type == FileType.Directory) return Fail(res, FsStatus.IsDir);
            if (a.Type != FileType.Regular) return Fail(res, FsStatus.Inval);
            ulong end = offset + count;
            if (end < offset || end > Layout.MaxFileSize) return Fail(res, FsStatus.FBig);
            if (!Permissions.AllowsWithOwnerOverride(cred, a, Permissions.Write)) return Fail(res, FsStatus.Acces);
            if (end > a.Size)
            {
                if (CheckQuota(t, _vol, (long)(end - a.Size), 0) != FsStatus.Ok) return Fail(res, FsStatus.DQuot);
                tx.AddUsage((long)(end - a.Size), 0);
                a.Size = end;
            }
            a.Mtime = a.Ctime = now;
            if (!cred.IsRoot) a.Mode &= ~(Permissions.SetUid | Permissions.SetGid);
            tx.PutAttr(a);
            res.Obj = a;
            return res;
        });
    }

    public FsStatus CheckRead(Credential cred, ulong ino, out Attr attr)
    {
        if (GetAttr(ino, out attr) != FsStatus.Ok) return FsStatus.Stale;
        if (attr.Type == FileType.Directory) return FsStatus.IsDir;
        if (attr.Type != FileType.Regular) return FsStatus.Inval;
        return Permissions.AllowsWithOwnerOverride(cred, attr, Permissions.Read) ? FsStatus.Ok : FsStatus.Acces;
    }

    /// <summary>Stale when the inode does not exist; an absent chunk is a hole (empty list).</summary>
    public FsStatus ReadChunk(ulong ino, uint chunkIndex, out IReadOnlyList<Slice> slices)
    {
        var (exists, v) = _kv.Read(r =>
        {
            if (r.Get(Keys.Attr(_vol, ino)) is null) return (false, (byte[]?)null);
            return (true, r.Get(Keys.Chunk(_vol, ino, chunkIndex)));
        });
        slices = v is null ? [] : Codec.DecodeSlices(v);
        return exists ? FsStatus.Ok : FsStatus.Stale;
    }

    public FsStatus AddSlices(ulong ino, IReadOnlyList<(uint Chunk, Slice Slice)> slices, bool durable, IReadOnlyList<InlineData>? inline = null)
    {
        var now = Timespec.Now();
        return _kv.Transact(t =>
        {
            var tx = new MetaTxn(t, _vol, now);
            if (t.Get(Keys.Attr(_vol, ino)) is null)
            {
                // The file went away while its data was uploading: nothing references these objects now.
                for (int i = 0; i < slices.Count; i++) tx.QueueDead(slices[i].Slice);
                return FsStatus.Stale;
            }
            if (inline is not null)
                foreach (var d in inline) t.Set(Keys.InlineData(d.Id), Codec.EncodeInline(tx.NowMs, _vol, ino, ChunkOf(slices, d.Id), d.Bytes.Span));
            // Group by chunk without LINQ: usually all slices of one call share a chunk. Each chunk's list is copied
            // once per call, however many slices it gains (a copy per slice was quadratic in a busy chunk's list).
            int start = 0;
            while (start < slices.Count)
            {
                uint chunk = slices[start].Chunk;
                var key = Keys.Chunk(_vol, ino, chunk);
                int i = start;
                while (i < slices.Count && slices[i].Chunk == chunk) i++;
                t.Set(key, Codec.EncodeSlices(t.Get(key), new SliceRun(slices, start, i - start)));
                start = i;
            }
            return FsStatus.Ok;
        }, durable);
    }

    /// <summary>The slices [start, start+count) of a chunk-tagged list, without copying them out.</summary>
    private readonly struct SliceRun(IReadOnlyList<(uint Chunk, Slice Slice)> all, int start, int count) : IReadOnlyList<Slice>
    {
        public Slice this[int index] => all[start + index].Slice;
        public int Count => count;
        public IEnumerator<Slice> GetEnumerator()
        {
            for (int i = 0; i < count; i++) yield return all[start + i].Slice;
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The chunk the references to slice <paramref name="id"/> are in (a packed slice never spans chunks).</summary>
    private static uint ChunkOf(IReadOnlyList<(uint Chunk, Slice Slice)> slices, ulong id)
    {
        for (int i = 0; i < slices.Count; i++)
            if (slices[i].Slice.Id == id) return slices[i].Chunk;
        throw new ArgumentException($"inline data for slice {id}, which none of the slices references");
    }
}
