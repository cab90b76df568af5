using NfsGate.Metadata.Maintenance;

namespace NfsGate.FileSystem.Maintenance;

public sealed class FsckOptions
{
    /// <summary>False = metadata only: no object store requests at all.</summary>
    public bool CheckObjects { get; init; } = true;

    /// <summary>HEAD requests in flight at once.</summary>
    public int Parallelism { get; init; } = 16;
}

/// <summary>What <see cref="DataChecker"/> found: the metadata check plus, if asked, the block objects.</summary>
public sealed class FsckResult
{
    public required MetadataCheckResult Metadata { get; init; }
    public bool ObjectsChecked { get; init; }
    public long BlocksChecked;
    public long BlocksMissing;
    public long BlocksWrongLength;

    /// <summary>Every problem: the metadata ones first, then the object ones.</summary>
    public List<Problem> Problems { get; } = [];

    public bool Clean => Problems.Count == 0;
}
