namespace NfsGate.Metadata.Maintenance;

/// <summary>What <see cref="MetadataChecker"/> saw, and what was wrong.</summary>
public sealed class MetadataCheckResult
{
    public int Volumes;
    public long Inodes;
    public long Directories;
    public long Files;
    public long Symlinks;
    /// <summary>Devices, sockets and FIFOs.</summary>
    public long OtherInodes;
    public long Chunks;
    /// <summary>Slices that own objects, each counted once however many references name it (holes, id 0, are not counted).</summary>
    public long Slices;
    /// <summary>Sum of regular file sizes (what the used-bytes counters should say).</summary>
    public ulong FileBytes;
    /// <summary>Sum of the object sizes of the counted slices.</summary>
    public ulong SliceBytes;
    public List<Problem> Problems = [];

    public bool Clean => Problems.Count == 0;
}
