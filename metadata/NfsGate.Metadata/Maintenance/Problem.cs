namespace NfsGate.Metadata.Maintenance;

/// <summary>What kind of inconsistency fsck or gc found. Stable names: the CLI prints and counts them.</summary>
public enum ProblemKind
{
    /// <summary>A stored value does not decode (wrong version or length).</summary>
    BadValue,
    /// <summary>A key of the volume that fits no row of the key schema.</summary>
    UnknownKey,
    /// <summary>The volume has no root directory.</summary>
    MissingRoot,
    /// <summary>A directory entry names an inode that does not exist.</summary>
    DanglingEntry,
    /// <summary>A directory entry's type differs from its inode's type.</summary>
    EntryTypeMismatch,
    /// <summary>Entries stored under an inode that is missing or not a directory.</summary>
    EntryInNonDirectory,
    /// <summary>A directory entry without its readdir index key, or with a different one.</summary>
    MissingIndex,
    /// <summary>A readdir index key that no directory entry owns.</summary>
    StrayIndex,
    /// <summary>An inode's link count differs from its names (files) or 2 + subdirectories (directories).</summary>
    WrongNlink,
    /// <summary>A directory's stored parent is not the directory that lists it, or it has more than one name.</summary>
    WrongParent,
    /// <summary>An inode (not the root) that no directory entry names.</summary>
    OrphanInode,
    /// <summary>The used-bytes or inode-count counter differs from the sum over the inodes.</summary>
    UsageMismatch,
    /// <summary>Chunk, symlink or verifier keys of an inode that is missing or of another type.</summary>
    StrayKey,
    /// <summary>A slice that does not lie within its chunk (or within its own object data).</summary>
    BadSlice,
    /// <summary>A symbolic link without a target.</summary>
    MissingSymlinkTarget,
    /// <summary>A block object of a referenced slice is absent from the object store.</summary>
    MissingBlock,
    /// <summary>A block object of a referenced slice has the wrong length.</summary>
    WrongBlockLength,
    /// <summary>An object under chunks/ whose key is not a block key (gc reports it and never deletes it).</summary>
    UnparsableObjectKey,
}

/// <summary>
/// One inconsistency. <see cref="Inode"/> is 0 when it concerns the volume (usage) or an object key alone;
/// <see cref="Volume"/> is 0 for objects no volume owns.
/// </summary>
public sealed record Problem(ProblemKind Kind, uint Volume, ulong Inode, string Message)
{
    /// <summary>The chunk index, for slice and block problems.</summary>
    public uint? Chunk { get; init; }

    /// <summary>The object key, for block and object problems.</summary>
    public string? ObjectKey { get; init; }

    public override string ToString() => $"{Kind} vol {Volume} ino {Inode}: {Message}";
}

/// <summary>Progress of a maintenance run: <see cref="Total"/> is -1 while unknown.</summary>
public readonly record struct MaintenanceProgress(string Phase, long Done, long Total);
