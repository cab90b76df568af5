using NfsGate.Metadata.Maintenance;

namespace NfsGate.FileSystem.Maintenance;

public sealed class GcOptions
{
    /// <summary>False (the default) = dry run: report leaked objects, delete nothing.</summary>
    public bool Delete { get; init; }

    /// <summary>
    /// If set, only slice ids ≤ this may count as leaked. Pass <see cref="GcResult.SliceCounter"/> of a run made
    /// longer ago than any upload can take (see <see cref="GarbageCollector"/> for why); null = the counter read at
    /// the start of this run, which is only safe while no writer is running.
    /// </summary>
    public ulong? MaxSliceId { get; init; }

    /// <summary>DELETE requests in flight at once.</summary>
    public int Parallelism { get; init; } = 16;
}

/// <summary>A block object that no chunk references and the delete queue does not hold.</summary>
public readonly record struct LeakedObject(string Key, ulong SliceId, int BlockIndex, long Size);

public sealed class GcResult
{
    /// <summary>The last slice id allocated when the run started ('Gs'); save it to pass as a later run's MaxSliceId.</summary>
    public ulong SliceCounter;
    /// <summary>Largest slice id this run could count as leaked.</summary>
    public ulong SliceIdBound;
    public bool DryRun;
    public long ObjectsListed;
    public long BytesListed;
    /// <summary>Objects of slices some chunk references.</summary>
    public long ReferencedObjects;
    /// <summary>Objects of slices in the delayed-delete queue (the background deleter's job).</summary>
    public long QueuedObjects;
    /// <summary>Unreferenced objects above <see cref="SliceIdBound"/>: perhaps uploads in flight, left alone.</summary>
    public long NewerObjects;
    public List<LeakedObject> Leaked { get; } = [];
    public long LeakedBytes;
    /// <summary>Leaked objects deleted (0 on a dry run).</summary>
    public long Deleted;
    /// <summary>
    /// Inline slice rows (bytes in the metadata) that no chunk references and the delete queue does not hold, and their
    /// bytes. A row is written in the same transaction as its references, so only a bug leaves one; no bound is needed.
    /// </summary>
    public List<ulong> LeakedInlineRows { get; } = [];
    public long LeakedInlineBytes;
    /// <summary>Leaked inline rows deleted (0 on a dry run).</summary>
    public long InlineRowsDeleted;
    /// <summary>Keys under chunks/ that are not block keys (<see cref="ProblemKind.UnparsableObjectKey"/>); never deleted.</summary>
    public List<Problem> Problems { get; } = [];
}
