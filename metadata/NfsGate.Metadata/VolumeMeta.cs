using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>
/// One volume's metadata over the KV seam. Every public method is exactly one <see cref="IKvStore.Transact{T}"/>
/// (or one <see cref="IKvStore.Read{T}"/>), so a crash at any moment leaves the store consistent. Transaction bodies
/// check everything before they write, and have no effect outside the transaction (they may be retried).
/// An inode passed in by handle (a directory, the object of SETATTR/LINK/READ...) that does not exist gives Stale
/// — the file handle outlived its object; GetAttr alone answers NoEnt, as its contract says. A missing NAME is NoEnt.
/// Split by concern: VolumeMeta.Create.cs, .Remove.cs, .Rename.cs, .SetAttr.cs, .ReadDir.cs, .Data.cs.
/// </summary>
public sealed partial class VolumeMeta : IVolumeMeta
{
    /// <summary>Most links an inode may have (a directory: 2 + subdirectories); ext4's limit.</summary>
    public const uint MaxLink = 65000;

    private readonly IKvStore _kv;
    private readonly uint _vol;
    private readonly ILogger? _log;

    /// <summary>Use <see cref="MetadataStore.OpenVolume"/>, which also makes sure the root exists.</summary>
    internal VolumeMeta(IKvStore kv, uint volumeId, ILogger? logger = null)
    {
        _kv = kv;
        _vol = volumeId;
        _log = logger;
    }

    public uint VolumeId => _vol;

    public long ChunkSize { get; private set; } = Layout.LegacyChunkSize;

    /// <summary>
    /// Creates the root directory if it is missing (idempotent), and with it the volume's chunk-size row; then reads
    /// the chunk size. A volume whose root predates the row keeps <see cref="Layout.LegacyChunkSize"/>: its slice
    /// lists were written for it. Every gateway reads the same row, so they agree on where chunks start.
    /// </summary>
    internal void EnsureRoot()
    {
        var key = Keys.Attr(_vol, INamespace.RootInode);
        var (rootExists, size) = _kv.Read(r => (r.Get(key) is not null, r.Get(Keys.ChunkSize(_vol))));
        if (rootExists)
        {
            ChunkSize = DecodeChunkSize(_vol, size);
            return;
        }
        var now = Timespec.Now();
        bool created = _kv.Transact(t =>
        {
            if (t.Get(key) is not null) return false;
            t.Set(Keys.ChunkSize(_vol), Codec.EncodeU64((ulong)Layout.ChunkSize));
            var root = new Attr
            {
                Inode = INamespace.RootInode, Generation = MetaTxn.NewGeneration(), Type = FileType.Directory,
                Mode = 0x1ED /* 0755 */, Nlink = 2, Atime = now, Mtime = now, Ctime = now, Parent = INamespace.RootInode,
            };
            t.Set(key, Codec.EncodeAttr(root));
            // Inode numbers continue after the root; the counter never goes back, so numbers are never reused.
            var nextKey = Keys.NextInode(_vol);
            var next = t.Get(nextKey);
            if (next is null || BinaryPrimitives.ReadInt64BigEndian(next) < (long)INamespace.RootInode)
                t.IncrementBy(nextKey, (long)INamespace.RootInode - (next is null ? 0 : BinaryPrimitives.ReadInt64BigEndian(next)));
            t.IncrementBy(Keys.InodeCount(_vol), 1);
            return true;
        }, durable: true);
        if (created && _log is not null) Log.RootCreated(_log, _vol);
        ChunkSize = DecodeChunkSize(_vol, _kv.Read(r => r.Get(Keys.ChunkSize(_vol))));
    }

    /// <summary>
    /// Volume <paramref name="vol"/>'s chunk size from its <see cref="Keys.ChunkSize"/> row (absent: legacy). A size this
    /// build cannot lay files out with would misplace every byte: InvalidDataException, as for an undecodable row. The
    /// volume refuses to open on it; the metadata checker reports it.
    /// </summary>
    internal static long DecodeChunkSize(uint vol, byte[]? row)
    {
        if (row is null) return Layout.LegacyChunkSize;
        long size = (long)Codec.DecodeU64(row);
        if (!Layout.IsValidChunkSize(size))
            throw new InvalidDataException($"volume {vol}: recorded chunk size {size} is not a whole number of {Layout.BlockSize}-byte blocks up to {Layout.LegacyChunkSize}");
        return size;
    }

    // GETATTR (and the handle check before every NFS call) is one key: a point read needs no snapshot, and the
    // key and value live on the stack, so the call allocates nothing.
    public FsStatus GetAttr(ulong ino, out Attr attr)
    {
        Span<byte> key = stackalloc byte[Keys.InodePrefixLength + 1];
        Keys.Attr(_vol, ino, key);
        Span<byte> buf = stackalloc byte[ValueScratch];
        if (!TryGetLatest(key, buf, out var v)) { attr = default; return FsStatus.NoEnt; }
        attr = Codec.DecodeAttr(ino, v);
        return FsStatus.Ok;
    }

    private const int ValueScratch = 128; // attributes are 86 bytes, dentries 18

    /// <summary>The latest value of one key, in <paramref name="scratch"/> when it fits (else in a new array).</summary>
    private bool TryGetLatest(ReadOnlySpan<byte> key, Span<byte> scratch, out ReadOnlySpan<byte> value)
    {
        int n = _kv.GetLatest(key, scratch);
        while (n > scratch.Length)
        {
            scratch = new byte[n];
            n = _kv.GetLatest(key, scratch);
        }
        value = n < 0 ? default : scratch[..n];
        return n >= 0;
    }

    public FsStatus Access(Credential cred, ulong ino, AccessMask requested, out AccessMask granted, out Attr attr)
    {
        granted = 0;
        if (GetAttr(ino, out attr) != FsStatus.Ok) return FsStatus.Stale;
        granted = Permissions.Access(cred, attr, requested);
        return FsStatus.Ok;
    }

    /// <summary>Inval if the inode is not a symlink. No permission check: symlinks are always 0777.</summary>
    public FsStatus ReadLink(Credential cred, ulong ino, out string target, out Attr attr)
    {
        var (a, t) = _kv.Read(r =>
        {
            var v = r.Get(Keys.Attr(_vol, ino));
            if (v is null) return ((Attr?)null, (byte[]?)null);
            return ((Attr?)Codec.DecodeAttr(ino, v), r.Get(Keys.Symlink(_vol, ino)));
        });
        target = "";
        attr = a ?? default;
        if (a is null) return FsStatus.Stale;
        if (a.Value.Type != FileType.Symlink || t is null) return FsStatus.Inval;
        target = Codec.DecodeString(t);
        return FsStatus.Ok;
    }

    public VolumeUsage Usage()
    {
        return _kv.Read(r =>
        {
            var b = r.Get(Keys.UsedBytes(_vol));
            var n = r.Get(Keys.InodeCount(_vol));
            return new VolumeUsage(
                b is null ? 0 : (ulong)Math.Max(0, BinaryPrimitives.ReadInt64BigEndian(b)),
                n is null ? 0 : (ulong)Math.Max(0, BinaryPrimitives.ReadInt64BigEndian(n)));
        });
    }

    private static OpResult Fail(OpResult r, FsStatus s)
    {
        r.Status = s;
        return r;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "volume {Volume}: root directory created")]
        public static partial void RootCreated(ILogger logger, uint volume);
    }
}
