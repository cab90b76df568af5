using System.Buffers.Binary;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests;

/// <summary>
/// Checks a volume's keys against each other, straight from the KV: every entry has its readdir index and a live
/// inode, link counts and parents match the entries, and the usage counters match the inodes. Returns the problems.
/// </summary>
public static class Fsck
{
    public static List<string> Check(IKvStore kv, uint vol)
    {
        var problems = new List<string>();
        var start = Keys.Attr(vol, 0).AsSpan(0, Keys.VolumePrefixLength + 1).ToArray(); // 'V' vol 'A'
        var end = (byte[])start.Clone();
        end[^1]++;
        var all = kv.Read(r => r.Scan(start, end, int.MaxValue));
        var attrs = new Dictionary<ulong, Attr>();
        var entries = new List<(ulong Dir, string Name, FileType Type, ulong Ino, ulong Seq)>();
        var index = new Dictionary<(ulong, ulong), (ulong Ino, FileType Type, string Name)>();
        foreach (var (k, v) in all)
        {
            ulong ino = BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(Keys.VolumePrefixLength + 1));
            var rest = k.AsSpan(Keys.InodePrefixLength + 1);
            switch ((char)k[Keys.InodePrefixLength])
            {
                case 'I': attrs[ino] = Codec.DecodeAttr(ino, v); break;
                case 'D':
                    var (t, child, seq) = Codec.DecodeDentry(v);
                    entries.Add((ino, System.Text.Encoding.UTF8.GetString(rest), t, child, seq));
                    break;
                case 'S': index[(ino, BinaryPrimitives.ReadUInt64BigEndian(rest))] = Codec.DecodeIndex(v); break;
            }
        }
        var links = new Dictionary<ulong, uint>();
        var subdirs = new Dictionary<ulong, uint>();
        foreach (var e in entries)
        {
            if (!index.TryGetValue((e.Dir, e.Seq), out var ix) || ix.Ino != e.Ino || ix.Name != e.Name || ix.Type != e.Type)
                problems.Add($"entry {e.Dir}/{e.Name}: readdir index missing or different");
            if (!attrs.TryGetValue(e.Ino, out var a)) { problems.Add($"entry {e.Dir}/{e.Name} → missing inode {e.Ino}"); continue; }
            if (a.Type != e.Type) problems.Add($"entry {e.Dir}/{e.Name}: type {e.Type} but inode is {a.Type}");
            links[e.Ino] = links.GetValueOrDefault(e.Ino) + 1;
            if (a.Type == FileType.Directory)
            {
                subdirs[e.Dir] = subdirs.GetValueOrDefault(e.Dir) + 1;
                if (a.Parent != e.Dir) problems.Add($"dir {e.Ino}: parent {a.Parent}, but it is listed in {e.Dir}");
            }
        }
        if (index.Count != entries.Count) problems.Add($"{index.Count} readdir index keys for {entries.Count} entries");
        ulong bytes = 0;
        foreach (var (ino, a) in attrs)
        {
            if (a.Type == FileType.Regular) bytes += a.Size;
            uint names = links.GetValueOrDefault(ino);
            if (a.Type == FileType.Directory)
            {
                uint want = 2 + subdirs.GetValueOrDefault(ino);
                if (a.Nlink != want) problems.Add($"dir {ino}: nlink {a.Nlink}, expected {want}");
                if (ino != INamespace.RootInode && names != 1) problems.Add($"dir {ino}: {names} names");
            }
            else if (a.Nlink != names) problems.Add($"inode {ino}: nlink {a.Nlink} but {names} names");
        }
        var usage = new MetadataStore(kv).OpenVolume(vol).Usage();
        if (usage != new VolumeUsage(bytes, (ulong)attrs.Count))
            problems.Add($"usage {usage}, inodes say {bytes} bytes / {attrs.Count} inodes");
        return problems;
    }
}

/// <summary>
/// Wraps an engine and makes some transactions throw part-way through the body, after some writes: stands in for a
/// crash in the middle of an operation. A correct operation is one transaction, so nothing of it may remain.
/// </summary>
public sealed class FaultyKv(IKvStore inner, int seed) : IKvStore
{
    private readonly Random _rnd = new(seed);
    public int Injected;
    public bool Enabled = true;

    public string Engine => inner.Engine;

    public T Transact<T>(Func<IKvTxn, T> body, bool durable = false)
    {
        int failAfter = Enabled && _rnd.Next(8) == 0 ? _rnd.Next(0, 8) : -1;
        return inner.Transact(t => body(failAfter < 0 ? t : new Txn(t, failAfter, this)), durable);
    }

    public T Read<T>(Func<IKvReader, T> body) => inner.Read(body);
    public void Sync() => inner.Sync();
    public IReadOnlyDictionary<string, double> Stats() => inner.Stats();
    public void Dispose() => inner.Dispose();

    public sealed class CrashException : Exception;

    private sealed class Txn(IKvTxn t, int failAfter, FaultyKv owner) : IKvTxn
    {
        private int _writes;

        private void Tick()
        {
            if (_writes++ == failAfter)
            {
                owner.Injected++;
                throw new CrashException();
            }
        }

        public byte[]? Get(ReadOnlySpan<byte> key) => t.Get(key);
        public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit) => t.Scan(start, end, limit);
        public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) { Tick(); t.Set(key, value); }
        public void Delete(ReadOnlySpan<byte> key) { Tick(); t.Delete(key); }
        public long IncrementBy(ReadOnlySpan<byte> key, long delta) { Tick(); return t.IncrementBy(key, delta); }
    }
}
