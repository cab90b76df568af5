using System.Text;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>
/// The POSIX building blocks every namespace operation composes, over one KV transaction of one volume.
/// Operations check everything first and only then call the mutating helpers, so a failed operation writes nothing.
/// </summary>
internal sealed class MetaTxn(IKvTxn kv, uint vol, Timespec now)
{
    public readonly IKvTxn Kv = kv;
    public readonly uint Vol = vol;
    public readonly Timespec Now = now;

    /// <summary>The deletion-queue timestamp: milliseconds since the Unix epoch.</summary>
    public ulong NowMs => (ulong)Math.Max(0, Now.Seconds * 1000 + Now.Nanos / 1_000_000);

    public bool TryGetAttr(ulong ino, out Attr a)
    {
        var v = Kv.Get(Keys.Attr(Vol, ino));
        if (v is null) { a = default; return false; }
        a = Codec.DecodeAttr(ino, v);
        return true;
    }

    public void PutAttr(in Attr a) => Kv.Set(Keys.Attr(Vol, a.Inode), Codec.EncodeAttr(a));

    public bool TryGetDentry(ulong dir, byte[] name, out FileType type, out ulong ino, out ulong seq)
    {
        var v = Kv.Get(Keys.Dentry(Vol, dir, name));
        if (v is null) { type = 0; ino = 0; seq = 0; return false; }
        (type, ino, seq) = Codec.DecodeDentry(v);
        return true;
    }

    /// <summary>Adds name → ino with a fresh readdir sequence number (3, 4, ...: 1 and 2 are "." and "..").</summary>
    public void AddEntry(ulong dir, byte[] name, FileType type, ulong ino)
    {
        ulong seq = (ulong)Kv.IncrementBy(Keys.DirCounter(Vol, dir), 1) + 2;
        Kv.Set(Keys.Dentry(Vol, dir, name), Codec.EncodeDentry(type, ino, seq));
        Kv.Set(Keys.ReadDirIndex(Vol, dir, seq), Codec.EncodeIndex(ino, type, name));
    }

    public void RemoveEntry(ulong dir, byte[] name, ulong seq)
    {
        Kv.Delete(Keys.Dentry(Vol, dir, name));
        Kv.Delete(Keys.ReadDirIndex(Vol, dir, seq));
    }

    public bool DirIsEmpty(ulong dir) =>
        Kv.Scan(Keys.DentryStart(Vol, dir), Keys.DentryEnd(Vol, dir), 1).Count == 0;

    public ulong NewInode() => (ulong)Kv.IncrementBy(Keys.NextInode(Vol), 1);

    public void AddUsage(long bytes, long inodes)
    {
        if (bytes != 0) Kv.IncrementBy(Keys.UsedBytes(Vol), bytes);
        if (inodes != 0) Kv.IncrementBy(Keys.InodeCount(Vol), inodes);
    }

    public static uint NewGeneration() => (uint)Random.Shared.NextInt64(1, 1L << 32); // never 0: 0 means "no verifier"

    /// <summary>Drops one link (ctime = now). Frees the inode when none is left; returns true if it was freed.</summary>
    public bool Unlink(ref Attr a)
    {
        bool dir = a.Type == FileType.Directory;
        if (dir || a.Nlink <= 1)
        {
            FreeInode(a);
            a.Nlink = 0;
            return true;
        }
        a.Nlink--;
        a.Ctime = Now;
        PutAttr(a);
        return false;
    }

    /// <summary>Deletes every key of the inode, queues its slices for deletion and returns its usage.</summary>
    public void FreeInode(in Attr a)
    {
        ulong ino = a.Inode;
        Kv.Delete(Keys.Attr(Vol, ino));
        switch (a.Type)
        {
            case FileType.Regular:
                DropChunks(ino, 0);
                Kv.Delete(Keys.Verifier(Vol, ino));
                break;
            case FileType.Symlink:
                Kv.Delete(Keys.Symlink(Vol, ino));
                break;
            case FileType.Directory:
                Kv.Delete(Keys.DirCounter(Vol, ino));
                break;
        }
        AddUsage(a.Type == FileType.Regular ? -(long)a.Size : 0, -1);
    }

    /// <summary>Deletes chunk keys with index ≥ <paramref name="firstChunk"/>, queueing their slices.</summary>
    public void DropChunks(ulong ino, uint firstChunk)
    {
        var start = Keys.Chunk(Vol, ino, firstChunk);
        var end = Keys.ChunkEnd(Vol, ino);
        while (true)
        {
            // Batches keep memory bounded for huge files; deleted keys disappear from the next scan.
            var batch = Kv.Scan(start, end, 256);
            for (int i = 0; i < batch.Count; i++)
            {
                var slices = Codec.DecodeSlices(batch[i].Value);
                for (int j = 0; j < slices.Length; j++) QueueDead(slices[j]);
                Kv.Delete(batch[i].Key);
            }
            if (batch.Count < 256) return;
        }
    }

    /// <summary>Slices this transaction put on the delete queue.</summary>
    public int Queued { get; private set; }

    public void QueueDead(Slice s)
    {
        if (s.Id == 0) return; // holes own no object
        var index = Keys.DeleteIndex(s.Id);
        if (Kv.Get(index) is not null) return; // already queued
        ulong ms = NowMs;
        Kv.Set(Keys.DeleteQueue(ms, s.Id), Codec.EncodeU32(s.Size));
        Kv.Set(index, Codec.EncodeU64(ms));
        Queued++;
    }

    /// <summary>
    /// Sets a regular file's size. Shrinking drops the chunks wholly past the new end and, in the chunk holding the new
    /// end, appends a hole slice up to the chunk's end, so the cut-off bytes read as zeros if the file grows again.
    /// Growing only sets the size (sparse). mtime = ctime = now; usage follows.
    /// </summary>
    public void SetSize(ref Attr a, ulong size, long chunkSize)
    {
        ulong old = a.Size, chunk = (ulong)chunkSize;
        if (size < old)
        {
            ulong firstWhole = (size + chunk - 1) / chunk;
            if (firstWhole <= uint.MaxValue) DropChunks(a.Inode, (uint)firstWhole);
            uint pos = (uint)(size % chunk);
            if (pos != 0)
            {
                var key = Keys.Chunk(Vol, a.Inode, (uint)(size / chunk));
                var existing = Kv.Get(key);
                if (existing is not null) // no key = already a hole
                {
                    uint len = (uint)(chunk - pos);
                    Kv.Set(key, Codec.AppendSlice(existing, new Slice(0, len, pos, 0, len)));
                }
            }
        }
        a.Size = size;
        a.Mtime = a.Ctime = Now;
        AddUsage((long)size - (long)old, 0);
    }

    public static byte[] NameBytes(string name) => Encoding.UTF8.GetBytes(name);
}
