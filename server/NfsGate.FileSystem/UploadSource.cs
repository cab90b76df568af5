namespace NfsGate.FileSystem;

/// <summary>Bytes lent out for one block upload; <see cref="Rented"/> (if any) goes back to the shared pool afterwards.</summary>
internal readonly record struct Lease(ReadOnlyMemory<byte> Data, byte[]? Rented);

/// <summary>
/// What <see cref="SliceUploader"/> stores as new slices: a write-buffer generation, a staged journal record, or a
/// chunk being compacted. Each supplies its dirty runs and the bytes of any range inside one run.
/// </summary>
internal interface IUploadSource
{
    /// <summary>Sorted, disjoint [Off, End) file ranges to store; touching ranges may be merged into one slice.</summary>
    IReadOnlyList<(long Off, long End)> Runs();

    /// <summary>The bytes [off, off+length), at most one block, wholly inside the runs.</summary>
    ValueTask<Lease> GetRangeAsync(long off, int length, CancellationToken ct);
}
