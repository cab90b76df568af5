namespace NfsGate.Metadata;

/// <summary>
/// How file bytes map onto immutable objects (JuiceFS's chunk/slice/block model):
/// a file is a sequence of fixed-size chunks; each chunk holds an ordered list of slices (later slices win
/// where they overlap); each slice is written once as blocks of at most <see cref="BlockSize"/> bytes, each
/// block an object named by slice id, block index and length. Overwrites add slices, never rewrite objects.
/// </summary>
public static class Layout
{
    /// <summary>
    /// The chunk size of a volume created now: 4 MiB, one block. A chunk is the unit of a slice list (one metadata row,
    /// rewritten by every commit that adds to it) and of compaction. Random small writes cut a chunk's bytes into
    /// pieces, and compaction must copy about chunk size ÷ list length bytes to merge one piece away: with 64 MiB
    /// chunks and lists of at most 1,024 references that was 64 KiB copied per 4 KiB written (11–12× measured), with
    /// 4 MiB chunks it is 4 KiB. Each volume records its chunk size when it is created (<see cref="Keys.ChunkSize"/>);
    /// see <see cref="IVolumeMeta.ChunkSize"/>.
    /// </summary>
    public const long ChunkSize = 4L << 20;
    /// <summary>The chunk size of a volume created before volumes recorded theirs (no <see cref="Keys.ChunkSize"/> row).</summary>
    public const long LegacyChunkSize = 64L << 20;

    /// <summary>A chunk size a volume may record: a whole number of blocks, at most <see cref="LegacyChunkSize"/>.</summary>
    public static bool IsValidChunkSize(long size) => size >= BlockSize && size <= LegacyChunkSize && size % BlockSize == 0;
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
