using System.Globalization;
using NfsGate.Metadata;

namespace NfsGate.FileSystem;

/// <summary>
/// Object names of slice blocks, JuiceFS style: <c>chunks/{id/1_000_000}/{id/1_000}/{id}_{block}_{length}</c>.
/// The two directory levels keep any one listing prefix small (at most 1,000 slices each); the length in the name
/// means a block can be read, cached and garbage-collected without a HEAD. The format is frozen by a test:
/// S3 buckets and the GC scan outlive any one version of this code.
/// </summary>
public static class ObjectKeys
{
    public static string BlockKey(ulong sliceId, int blockIndex, int length) =>
        string.Create(CultureInfo.InvariantCulture,
            $"chunks/{sliceId / 1_000_000}/{sliceId / 1_000}/{sliceId}_{blockIndex}_{length}");

    /// <summary>Number of block objects a slice of <paramref name="sliceSize"/> bytes is stored as.</summary>
    public static int BlockCount(uint sliceSize) => (int)((sliceSize + (long)Layout.BlockSize - 1) / Layout.BlockSize);

    /// <summary>Length of block <paramref name="blockIndex"/> of a slice: full blocks, then the remainder.</summary>
    public static int BlockLength(uint sliceSize, int blockIndex) =>
        (int)Math.Min(Layout.BlockSize, sliceSize - (long)blockIndex * Layout.BlockSize);
}
