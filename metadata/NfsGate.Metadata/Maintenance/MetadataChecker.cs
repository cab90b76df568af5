using System.Buffers.Binary;
using System.Text;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Maintenance;

/// <summary>
/// Metadata fsck: checks every volume's keys against each other from one consistent snapshot. Entries against
/// inodes and readdir index keys; link counts against names (files) and 2 + subdirectories (directories); each
/// directory's parent against the directory that lists it; inodes nothing names (orphans); the usage counters against
/// the inodes; chunk slice lists decode and their slices lie within the chunk; symlinks have targets; chunk, symlink,
/// verifier and entry-counter keys belong to a live inode of the right type. Read-only: it reports, never repairs.
/// Holds one volume's inodes and entries in memory at a time (about 100 bytes per entry).
/// </summary>
public static class MetadataChecker
{
    private const long ProgressEvery = 100_000;

    /// <summary>Checks every volume in one snapshot.</summary>
    public static MetadataCheckResult Check(IKvStore kv, Action<MaintenanceProgress>? progress = null, CancellationToken ct = default) =>
        kv.Read(r => Check(r, progress, ct));

    /// <summary>Checks every volume visible through <paramref name="r"/> (call inside one Read for a consistent view).</summary>
    public static MetadataCheckResult Check(IKvReader r, Action<MaintenanceProgress>? progress = null, CancellationToken ct = default)
    {
        var result = new MetadataCheckResult();
        var volumes = KvScan.Volumes(r);
        for (int i = 0; i < volumes.Count; i++)
        {
            CheckVolume(r, volumes[i], result, progress, ct);
            progress?.Invoke(new MaintenanceProgress("metadata", i + 1, volumes.Count));
        }
        return result;
    }

    /// <summary>Checks one volume in one snapshot.</summary>
    public static MetadataCheckResult CheckVolume(IKvStore kv, uint vol, CancellationToken ct = default) =>
        kv.Read(r =>
        {
            var result = new MetadataCheckResult();
            CheckVolume(r, vol, result, null, ct);
            return result;
        });

    private static void CheckVolume(IKvReader r, uint vol, MetadataCheckResult res, Action<MaintenanceProgress>? progress, CancellationToken ct)
    {
        res.Volumes++;
        var s = new VolumeScan(vol, res, ChunkSizeOf(r, vol, res));
        long keys = 0;
        KvScan.ForEach(r, KvScan.InodeKeysStart(vol), KvScan.InodeKeysEnd(vol), (k, v) =>
        {
            s.Add(k, v);
            if (++keys % ProgressEvery == 0) progress?.Invoke(new MaintenanceProgress($"metadata volume {vol}", keys, -1));
        }, ct);
        s.CheckEntries();
        s.CheckInodes();
        s.CheckOwnedKeys();
        s.CheckUsage(KvScan.Counter(r, Keys.UsedBytes(vol)), KvScan.Counter(r, Keys.InodeCount(vol)));
    }

    /// <summary>
    /// The volume's recorded chunk size, decoded as the volume does when it opens; a row it would refuse is reported,
    /// and the slices are then checked against the legacy size.
    /// </summary>
    private static long ChunkSizeOf(IKvReader r, uint vol, MetadataCheckResult res)
    {
        try
        {
            return VolumeMeta.DecodeChunkSize(vol, r.Get(Keys.ChunkSize(vol)));
        }
        catch (InvalidDataException ex)
        {
            res.Problems.Add(new Problem(ProblemKind.BadValue, vol, 0, ex.Message));
            return Layout.LegacyChunkSize;
        }
    }

    /// <summary>One volume's keys, collected by kind, then cross-checked.</summary>
    private sealed class VolumeScan(uint vol, MetadataCheckResult res, long chunkSize)
    {
        private readonly Dictionary<ulong, Attr> _attrs = [];
        private readonly List<(ulong Dir, string Name, FileType Type, ulong Ino, ulong Seq)> _entries = [];
        private readonly Dictionary<(ulong Dir, ulong Seq), (ulong Ino, FileType Type, string Name)> _index = [];
        private readonly List<(ulong Ino, uint Chunk)> _chunks = [];
        private readonly List<(ulong Ino, char Kind)> _owned = [];
        private readonly HashSet<ulong> _symlinkTargets = [];
        private readonly Dictionary<ulong, uint> _names = [];
        private readonly Dictionary<ulong, uint> _subdirs = [];
        private readonly Dictionary<ulong, ulong> _listedIn = [];

        private void Report(ProblemKind kind, ulong ino, string message, uint? chunk = null) =>
            res.Problems.Add(new Problem(kind, vol, ino, message) { Chunk = chunk });

        public void Add(byte[] k, byte[] v)
        {
            if (k.Length < Keys.InodePrefixLength + 1)
            {
                Report(ProblemKind.UnknownKey, 0, $"key {Convert.ToHexString(k)} is too short for an inode key");
                return;
            }
            ulong ino = BinaryPrimitives.ReadUInt64BigEndian(k.AsSpan(Keys.VolumePrefixLength + 1));
            var rest = k.AsSpan(Keys.InodePrefixLength + 1);
            char kind = (char)k[Keys.InodePrefixLength];
            try
            {
                switch (kind)
                {
                    case 'I' when rest.Length == 0: _attrs[ino] = Codec.DecodeAttr(ino, v); break;
                    case 'D':
                        var (t, child, seq) = Codec.DecodeDentry(v);
                        _entries.Add((ino, Encoding.UTF8.GetString(rest), t, child, seq));
                        break;
                    case 'S' when rest.Length == 8: _index[(ino, BinaryPrimitives.ReadUInt64BigEndian(rest))] = Codec.DecodeIndex(v); break;
                    case 'C' when rest.Length == 4: AddChunk(ino, Keys.ChunkIndexOf(k), v); break;
                    case 'X' when rest.Length == 0:
                        Codec.DecodeString(v);
                        _symlinkTargets.Add(ino);
                        _owned.Add((ino, kind));
                        break;
                    case 'E' when rest.Length == 0:
                        Codec.DecodeU64(v);
                        _owned.Add((ino, kind));
                        break;
                    case 'Q' when rest.Length == 0: _owned.Add((ino, kind)); break;
                    default: Report(ProblemKind.UnknownKey, ino, $"key {Convert.ToHexString(k)} fits no row of the key schema"); break;
                }
            }
            catch (InvalidDataException ex)
            {
                Report(ProblemKind.BadValue, ino, $"inode {ino} key kind '{kind}': {ex.Message}");
            }
        }

        private void AddChunk(ulong ino, uint chunk, byte[] v)
        {
            var slices = Codec.DecodeSlices(v);
            _chunks.Add((ino, chunk));
            res.Chunks++;
            // Compaction keeps narrowed references to intact big slices, so one slice may be named more than once in a
            // chunk: its objects exist once and count once.
            var seen = new HashSet<ulong>();
            foreach (var sl in slices)
            {
                if (sl.Size > chunkSize || (ulong)sl.Pos + sl.Len > (ulong)chunkSize || (sl.Id != 0 && (ulong)sl.Off + sl.Len > sl.Size))
                    Report(ProblemKind.BadSlice, ino, $"inode {ino} chunk {chunk}: slice {sl} does not lie within the chunk or its data", chunk);
                if (sl.Id == 0 || !seen.Add(sl.Id)) continue;
                res.Slices++;
                res.SliceBytes += sl.Size;
            }
        }

        public void CheckEntries()
        {
            var matched = new HashSet<(ulong, ulong)>();
            foreach (var e in _entries)
            {
                if (!_attrs.TryGetValue(e.Dir, out var dir) || dir.Type != FileType.Directory)
                    Report(ProblemKind.EntryInNonDirectory, e.Dir, $"entry {e.Dir}/{e.Name}: inode {e.Dir} is missing or not a directory");
                if (_index.TryGetValue((e.Dir, e.Seq), out var ix) && ix.Ino == e.Ino && ix.Name == e.Name && ix.Type == e.Type)
                    matched.Add((e.Dir, e.Seq));
                else Report(ProblemKind.MissingIndex, e.Dir, $"entry {e.Dir}/{e.Name}: readdir index {e.Seq} missing or different");
                if (!_attrs.TryGetValue(e.Ino, out var a))
                {
                    Report(ProblemKind.DanglingEntry, e.Dir, $"entry {e.Dir}/{e.Name} → missing inode {e.Ino}");
                    continue;
                }
                if (a.Type != e.Type) Report(ProblemKind.EntryTypeMismatch, e.Ino, $"entry {e.Dir}/{e.Name}: type {e.Type} but inode {e.Ino} is {a.Type}");
                _names[e.Ino] = _names.GetValueOrDefault(e.Ino) + 1;
                if (a.Type == FileType.Directory)
                {
                    _subdirs[e.Dir] = _subdirs.GetValueOrDefault(e.Dir) + 1;
                    _listedIn[e.Ino] = e.Dir;
                }
            }
            foreach (var ((dir, seq), ix) in _index)
                if (!matched.Contains((dir, seq)))
                    Report(ProblemKind.StrayIndex, dir, $"readdir index {dir}#{seq} ({ix.Name} → {ix.Ino}) has no matching entry");
        }

        public void CheckInodes()
        {
            if (!_attrs.TryGetValue(INamespace.RootInode, out var root) || root.Type != FileType.Directory)
                Report(ProblemKind.MissingRoot, INamespace.RootInode, $"volume {vol} has no root directory");
            foreach (var (ino, a) in _attrs)
            {
                res.Inodes++;
                uint names = _names.GetValueOrDefault(ino);
                bool isRoot = ino == INamespace.RootInode;
                switch (a.Type)
                {
                    case FileType.Directory: res.Directories++; break;
                    case FileType.Regular: res.Files++; res.FileBytes += a.Size; break;
                    case FileType.Symlink: res.Symlinks++; break;
                    default: res.OtherInodes++; break;
                }
                if (a.Type == FileType.Symlink && !_symlinkTargets.Contains(ino))
                    Report(ProblemKind.MissingSymlinkTarget, ino, $"symlink {ino} has no target");
                if (names == 0 && !isRoot)
                {
                    Report(ProblemKind.OrphanInode, ino, $"inode {ino} ({a.Type}, nlink {a.Nlink}) has no name");
                    continue;
                }
                if (a.Type == FileType.Directory)
                {
                    uint want = 2 + _subdirs.GetValueOrDefault(ino);
                    if (a.Nlink != want) Report(ProblemKind.WrongNlink, ino, $"dir {ino}: nlink {a.Nlink}, expected {want}");
                    if (isRoot)
                    {
                        if (names != 0 || a.Parent != INamespace.RootInode)
                            Report(ProblemKind.WrongParent, ino, $"root: parent {a.Parent}, {names} names (expected itself, none)");
                    }
                    else if (names != 1) Report(ProblemKind.WrongParent, ino, $"dir {ino}: {names} names");
                    else if (a.Parent != _listedIn[ino])
                        Report(ProblemKind.WrongParent, ino, $"dir {ino}: parent {a.Parent}, but it is listed in {_listedIn[ino]}");
                }
                else if (a.Nlink != names) Report(ProblemKind.WrongNlink, ino, $"inode {ino}: nlink {a.Nlink} but {names} names");
            }
        }

        /// <summary>Chunk, symlink, verifier and entry-counter keys must belong to a live inode of the right type.</summary>
        public void CheckOwnedKeys()
        {
            foreach (var (ino, chunk) in _chunks)
                if (!_attrs.TryGetValue(ino, out var a) || a.Type != FileType.Regular)
                    Report(ProblemKind.StrayKey, ino, $"chunk {chunk} of inode {ino}, which is missing or not a regular file", chunk);
            foreach (var (ino, kind) in _owned)
            {
                var want = kind switch { 'X' => FileType.Symlink, 'Q' => FileType.Directory, _ => FileType.Regular };
                if (!_attrs.TryGetValue(ino, out var a) || a.Type != want)
                    Report(ProblemKind.StrayKey, ino, $"key kind '{kind}' of inode {ino}, which is missing or not a {want}");
            }
        }

        public void CheckUsage(long usedBytes, long inodeCount)
        {
            ulong bytes = 0;
            foreach (var a in _attrs.Values)
                if (a.Type == FileType.Regular) bytes += a.Size;
            if (usedBytes != (long)bytes || inodeCount != _attrs.Count)
                Report(ProblemKind.UsageMismatch, 0,
                    $"usage counters say {usedBytes} bytes / {inodeCount} inodes, inodes say {bytes} bytes / {_attrs.Count} inodes");
        }
    }
}
