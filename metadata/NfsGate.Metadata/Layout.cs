namespace NfsGate.Metadata;

/// <summary>
/// How file bytes map onto immutable objects (JuiceFS's chunk/slice/block model):
/// a file is a sequence of fixed-size chunks; each chunk holds an ordered list of slices (later slices win
/// where they overlap); each slice is written once as blocks of at most <see cref="BlockSize"/> bytes, each
/// block an object named by slice id, block index and length. Overwrites add slices, never rewrite objects.
/// </summary>
public static class Layout
{
    /// <summary>64 MiB: a chunk's slice list stays small even for huge files (a 1 TiB file has 16,384 chunks).</summary>
    public const long ChunkSize = 64L << 20;
    /// <summary>4 MiB: large enough for S3 throughput, small enough for a cheap ranged fetch and cache slot.</summary>
    public const int BlockSize = 4 << 20;
    /// <summary>Largest file: 2^63-1 would overflow offsets in places; 8 EiB is not a real limit, 1 PiB is honest.</summary>
    public const ulong MaxFileSize = 1UL << 50;
}

/// <summary>
/// One slice reference inside a chunk. <see cref="Id"/> 0 is a hole (reads as zeros, e.g. after truncate).
/// The slice's object data is <see cref="Size"/> bytes; the visible part is [<see cref="Off"/>, Off+Len) of it,
/// placed at <see cref="Pos"/> within the chunk.
/// </summary>
public readonly record struct Slice(ulong Id, uint Size, uint Pos, uint Off, uint Len)
{
    /// <summary>
    /// Set in the id of a slice whose bytes live in the metadata store itself (an <see cref="Keys.InlineData"/> row)
    /// instead of in block objects. Allocated ids never reach it (2^62), so an id with it is inline and nothing else.
    /// </summary>
    public const ulong InlineFlag = 1UL << 62;

    /// <summary>The slice's bytes are an inline row, not objects: no block to fetch, prefetch, check or delete.</summary>
    public bool IsInline => IsInlineId(Id);

    public static bool IsInlineId(ulong id) => (id & InlineFlag) != 0;
}

/// <summary>The bytes of an inline slice, committed with the slice references that use them (see <see cref="Slice.InlineFlag"/>).</summary>
public readonly record struct InlineData(ulong Id, ReadOnlyMemory<byte> Bytes);

/// <summary>An object that no slice references any more, queued for asynchronous deletion.</summary>
public readonly record struct DeadSlice(ulong Id, uint Size);

/// <summary>Where an inline slice's row says it belongs (for the sweep that moves inline bytes into objects).</summary>
public readonly record struct InlineRow(ulong Id, ulong WrittenMs, uint Volume, ulong Inode, uint Chunk, int Length);
