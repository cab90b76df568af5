using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>
/// All of a deployment's metadata: one volume (own root, own inode numbers) per export, plus
/// deployment-wide state (the file-handle secret, slice id allocation, the delayed-delete queue).
/// </summary>
public interface IMetadataStore : IDisposable
{
    IKvStore Kv { get; }

    /// <summary>Opens a volume, creating its root directory (inode <see cref="INamespace.RootInode"/>, mode 0755 owned by root) on first use.</summary>
    IVolumeMeta OpenVolume(uint volumeId);

    /// <summary>
    /// The volume id of an export, by name: allocated on first use and stored, so ids (and with them file
    /// handles) stay the same across restarts and on every node sharing the metadata. Ids start at 1.
    /// </summary>
    uint GetOrCreateVolumeId(string exportName);

    /// <summary>The per-deployment secret for file-handle MACs: generated on first call, stored, the same on every node.</summary>
    byte[] GetOrCreateSecret();

    /// <summary>Reserves <paramref name="count"/> consecutive slice ids; returns the first. Ids are never reused.</summary>
    ulong NewSliceIds(int count);

    /// <summary>Up to <paramref name="max"/> objects waiting for deletion, oldest first.</summary>
    IReadOnlyList<DeadSlice> PendingDeletes(int max);

    /// <summary>Removes entries from the delete queue after their objects are gone (and an inline slice's bytes with them).</summary>
    void AckDeletes(IReadOnlyList<DeadSlice> done);

    /// <summary>
    /// Copies bytes [<paramref name="offset"/>, offset + dest.Length) of inline slice <paramref name="id"/> into
    /// <paramref name="dest"/>; false when the slice's row is gone or shorter (deleted after a compaction's grace period).
    /// </summary>
    bool ReadInline(ulong id, uint offset, Span<byte> dest);

    /// <summary>Up to <paramref name="max"/> inline rows, in slice id order (oldest first), without their bytes.</summary>
    IReadOnlyList<InlineRow> InlineRows(int max);
}

/// <summary>
/// The POSIX namespace of one volume. Every method is one atomic transaction, permission checks included
/// (they run against the same snapshot the change commits on). Expected failures are statuses.
/// </summary>
public interface INamespace
{
    public const ulong RootInode = 1;

    uint VolumeId { get; }

    /// <summary>NoEnt when the inode does not exist (the protocol reports STALE).</summary>
    FsStatus GetAttr(ulong ino, out Attr attr);

    /// <summary>SETATTR. <paramref name="guardCtime"/>: fail with NotSync unless the ctime matches. Size changes go through the layout (holes, freed slices).</summary>
    OpResult SetAttr(Credential cred, ulong ino, in SetAttrRequest req, Timespec? guardCtime);

    /// <summary>Name lookup in a directory, including "." and "..". Obj = found inode, Dir = directory.</summary>
    OpResult Lookup(Credential cred, ulong dir, string name);

    /// <summary>
    /// <see cref="Lookup"/> with the name as the client sent it (UTF-8 bytes, at most <see cref="Names.MaxNameBytes"/>
    /// or NameTooLong) and a struct result, so the per-call LOOKUP path can run without allocating. The default goes
    /// through the string form; names that are not valid UTF-8 always should (the string form maps them to U+FFFD
    /// exactly as CREATE stored them).
    /// </summary>
    LookupResult LookupUtf8(Credential cred, ulong dir, ReadOnlySpan<byte> name)
    {
        var r = Lookup(cred, dir, System.Text.Encoding.UTF8.GetString(name));
        return new LookupResult { Status = r.Status, Obj = r.Obj, Dir = r.Dir };
    }

    /// <summary>ACCESS: which of <paramref name="requested"/> the caller has. Obj = the inode.</summary>
    FsStatus Access(Credential cred, ulong ino, AccessMask requested, out AccessMask granted, out Attr attr);

    FsStatus ReadLink(Credential cred, ulong ino, out string target, out Attr attr);

    /// <summary>CREATE (regular file). Exclusive: <paramref name="verifier"/> is stored; a retry with the same verifier succeeds.</summary>
    OpResult Create(Credential cred, ulong dir, string name, CreateMode mode, in SetAttrRequest attrs, ulong verifier);
    OpResult Mkdir(Credential cred, ulong dir, string name, in SetAttrRequest attrs);
    OpResult Symlink(Credential cred, ulong dir, string name, string target, in SetAttrRequest attrs);
    /// <summary>MKNOD for Fifo, Socket, CharDevice, BlockDevice (others: BadType).</summary>
    OpResult Mknod(Credential cred, ulong dir, string name, FileType type, in SetAttrRequest attrs, uint major, uint minor);

    OpResult Remove(Credential cred, ulong dir, string name);
    OpResult Rmdir(Credential cred, ulong dir, string name);
    /// <summary>Dir/DirBefore = from, Dir2/Dir2Before = to.</summary>
    OpResult Rename(Credential cred, ulong fromDir, string fromName, ulong toDir, string toName);
    /// <summary>Obj = the file, Dir = the directory the link is made in.</summary>
    OpResult Link(Credential cred, ulong ino, ulong dir, string name);

    /// <summary>
    /// Entries after <paramref name="cookie"/> (0 = from the start). Cookies are stable for the life of an entry;
    /// entries added or removed meanwhile never cause a loop or a skipped survivor. BadCookie if the verifier is wrong.
    /// <paramref name="withAttrs"/> fills <see cref="DirEntry.Attr"/> (READDIRPLUS).
    /// </summary>
    ReadDirResult ReadDir(Credential cred, ulong dir, ulong cookie, ulong cookieVerifier, int maxEntries, bool withAttrs);

    VolumeUsage Usage();
}

/// <summary>The data-layout half of a volume's metadata: slices per chunk, and the write bookkeeping.</summary>
public interface IVolumeMeta : INamespace
{
    /// <summary>
    /// Bytes per chunk in this volume (chunk i holds file bytes [i × ChunkSize, (i+1) × ChunkSize)): recorded when the
    /// volume was created, <see cref="Layout.ChunkSize"/> for new volumes, <see cref="Layout.LegacyChunkSize"/> for
    /// volumes from before the row existed. A multiple of <see cref="Layout.BlockSize"/>.
    /// </summary>
    long ChunkSize { get; }

    /// <summary>
    /// Checks that the caller may write [offset, offset+count) (owner override as knfsd: the owner may write a file
    /// whose mode forbids it, since it was opened before), then sets size = max(size, end), mtime = ctime = now,
    /// and clears setuid/setgid when the writer is not root. ObjBefore/Obj filled.
    /// </summary>
    OpResult BeginWrite(Credential cred, ulong ino, ulong offset, uint count);

    /// <summary>Checks the caller may read (owner override too). Obj filled.</summary>
    FsStatus CheckRead(Credential cred, ulong ino, out Attr attr);

    /// <summary>The slices of one chunk, in write order (later wins). Empty for a hole.</summary>
    FsStatus ReadChunk(ulong ino, uint chunkIndex, out IReadOnlyList<Slice> slices);

    /// <summary>
    /// Appends slices (already uploaded, or inline: their bytes in <paramref name="inline"/>, stored in the same
    /// transaction) to chunks atomically. Stale if the inode is gone (the slices are then queued for deletion, and
    /// inline bytes are not stored).
    /// </summary>
    FsStatus AddSlices(ulong ino, IReadOnlyList<(uint Chunk, Slice Slice)> slices, bool durable, IReadOnlyList<InlineData>? inline = null);
}
