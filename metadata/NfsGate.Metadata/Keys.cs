using System.Buffers.Binary;
using System.Text;

namespace NfsGate.Metadata;

/// <summary>
/// The key schema. Every id is big-endian so keys sort in id order; every volume's keys start with
/// 'V' + volume id, so each export is its own namespace with its own inode numbers (root = 1).
/// Frozen by KeySchemaGoldenTests: a change here breaks every existing store, so only ADD rows.
///
/// | kind               | key bytes                              | value (first byte = format version 1)          |
/// |--------------------|----------------------------------------|------------------------------------------------|
/// | inode attributes   | 'V' vol:u32 'A' ino:u64 'I'            | Codec.EncodeAttr                               |
/// | directory entry    | 'V' vol:u32 'A' dir:u64 'D' name:utf8  | ver, type:u8, ino:u64, seq:u64                 |
/// | readdir index      | 'V' vol:u32 'A' dir:u64 'S' seq:u64    | ver, ino:u64, type:u8, name:utf8 (seq = cookie)|
/// | chunk slice list   | 'V' vol:u32 'A' ino:u64 'C' chunk:u32  | ver, n x (id:u64 size:u32 pos:u32 off:u32 len:u32) |
/// | symlink target     | 'V' vol:u32 'A' ino:u64 'X'            | ver, target:utf8                               |
/// | exclusive verifier | 'V' vol:u32 'A' ino:u64 'E'            | ver, verifier:u64                              |
/// | dir entry counter  | 'V' vol:u32 'A' dir:u64 'Q'            | i64 counter (IKvTxn.IncrementBy, no version)   |
/// | next inode number  | 'V' vol:u32 'N'                        | i64 counter = last inode number handed out     |
/// | used bytes         | 'V' vol:u32 'U'                        | i64 counter = sum of regular file sizes        |
/// | inode count        | 'V' vol:u32 'K'                        | i64 counter                                    |
/// | volume quota       | 'V' vol:u32 'q'                        | ver, bytes:u64, inodes:u64 (0 = no limit)      |
/// | trash retention    | 'V' vol:u32 'r'                        | ver, seconds:u64 (absent = trash off)          |
/// | trash directory    | 'V' vol:u32 't'                        | ver, inode:u64                                 |
/// | trash entry seq    | 'V' vol:u32 'R'                        | i64 counter = last trash id handed out         |
/// | trash entry        | 'V' vol:u32 'T' id:u64                 | ver, deletedMs:i64, dir:u64, bytes:u64, name   |
/// | trash bytes        | 'V' vol:u32 'b'                        | i64 counter = bytes of files in the trash      |
/// | trash inodes       | 'V' vol:u32 'i'                        | i64 counter = files in the trash               |
/// | chunk size         | 'V' vol:u32 'c'                        | ver, bytes:u64 (absent = Layout.LegacyChunkSize) |
/// | export → volume    | 'E' name:utf8                          | ver, volume id:u32                             |
/// | next volume id     | 'G' 'v'                                | i64 counter                                    |
/// | next slice id      | 'G' 's'                                | i64 counter = last slice id handed out         |
/// | handle secret      | 'G' 'k'                                | ver, 32 random bytes                           |
/// | delete queue       | 'L' ms:u64 slice:u64                   | ver, size:u32 (ms = Unix time it was queued)   |
/// | delete queue index | 'M' slice:u64                          | ver, ms:u64 (finds the 'L' key from a slice id)|
/// | node heartbeat      | 'H' node id:utf8                       | ver, JSON (Hosting/MembershipRecord.cs)        |
/// | inline slice data  | 'J' slice:u64 (with Slice.InlineFlag)  | ver, ms:u64, vol:u32, ino:u64, chunk:u32, bytes (Codec.EncodeInline) |
///
/// Counters carry no version byte: their format is fixed by IKvTxn.IncrementBy.
/// Integers inside values are little-endian (they are never compared bytewise).
/// </summary>
public static class Keys
{
    public const int VolumePrefixLength = 5;
    public const int InodePrefixLength = VolumePrefixLength + 9;

    public static byte[] Attr(uint vol, ulong ino) => InodeKey(vol, ino, (byte)'I', 0);

    public static byte[] Dentry(uint vol, ulong dir, ReadOnlySpan<byte> name)
    {
        var k = InodeKey(vol, dir, (byte)'D', name.Length);
        name.CopyTo(k.AsSpan(InodePrefixLength + 1));
        return k;
    }

    public static byte[] Dentry(uint vol, ulong dir, string name) => Dentry(vol, dir, Encoding.UTF8.GetBytes(name));

    /// <summary>Allocation-free forms for the per-call read path (GETATTR/LOOKUP): the same bytes written into
    /// <paramref name="dest"/> (at least <see cref="InodePrefixLength"/> + 1 + name bytes); return the key length.</summary>
    public static int Attr(uint vol, ulong ino, Span<byte> dest) => InodeKey(vol, ino, (byte)'I', dest);

    public static int Dentry(uint vol, ulong dir, ReadOnlySpan<byte> name, Span<byte> dest)
    {
        int n = InodeKey(vol, dir, (byte)'D', dest);
        name.CopyTo(dest[n..]);
        return n + name.Length;
    }

    private static int InodeKey(uint vol, ulong ino, byte kind, Span<byte> k)
    {
        k[0] = (byte)'V';
        BinaryPrimitives.WriteUInt32BigEndian(k[1..], vol);
        k[VolumePrefixLength] = (byte)'A';
        BinaryPrimitives.WriteUInt64BigEndian(k[(VolumePrefixLength + 1)..], ino);
        k[InodePrefixLength] = kind;
        return InodePrefixLength + 1;
    }

    /// <summary>Start of the directory-entry range of <paramref name="dir"/> (end = <see cref="DentryEnd"/>).</summary>
    public static byte[] DentryStart(uint vol, ulong dir) => InodeKey(vol, dir, (byte)'D', 0);
    public static byte[] DentryEnd(uint vol, ulong dir) => InodeKey(vol, dir, (byte)'D' + 1, 0);

    public static byte[] ReadDirIndex(uint vol, ulong dir, ulong seq)
    {
        var k = InodeKey(vol, dir, (byte)'S', 8);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(InodePrefixLength + 1), seq);
        return k;
    }

    public static byte[] ReadDirIndexEnd(uint vol, ulong dir) => InodeKey(vol, dir, (byte)'S' + 1, 0);

    public static byte[] Chunk(uint vol, ulong ino, uint chunk)
    {
        var k = InodeKey(vol, ino, (byte)'C', 4);
        BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(InodePrefixLength + 1), chunk);
        return k;
    }

    public static byte[] ChunkEnd(uint vol, ulong ino) => InodeKey(vol, ino, (byte)'C' + 1, 0);

    /// <summary>The chunk index inside a chunk key.</summary>
    public static uint ChunkIndexOf(ReadOnlySpan<byte> chunkKey) => BinaryPrimitives.ReadUInt32BigEndian(chunkKey[(InodePrefixLength + 1)..]);

    public static byte[] Symlink(uint vol, ulong ino) => InodeKey(vol, ino, (byte)'X', 0);
    public static byte[] Verifier(uint vol, ulong ino) => InodeKey(vol, ino, (byte)'E', 0);
    public static byte[] DirCounter(uint vol, ulong dir) => InodeKey(vol, dir, (byte)'Q', 0);

    public static byte[] NextInode(uint vol) => VolumeKey(vol, (byte)'N');
    public static byte[] UsedBytes(uint vol) => VolumeKey(vol, (byte)'U');
    public static byte[] InodeCount(uint vol) => VolumeKey(vol, (byte)'K');
    public static byte[] Quota(uint vol) => VolumeKey(vol, (byte)'q');
    public static byte[] TrashRetention(uint vol) => VolumeKey(vol, (byte)'r');
    public static byte[] TrashDir(uint vol) => VolumeKey(vol, (byte)'t');
    public static byte[] TrashSeq(uint vol) => VolumeKey(vol, (byte)'R');
    public static byte[] TrashBytes(uint vol) => VolumeKey(vol, (byte)'b');
    public static byte[] TrashInodes(uint vol) => VolumeKey(vol, (byte)'i');
    /// <summary>The volume's chunk size, written with its root directory (see <see cref="Layout.ChunkSize"/>).</summary>
    public static byte[] ChunkSize(uint vol) => VolumeKey(vol, (byte)'c');

    public static byte[] TrashEntry(uint vol, ulong id)
    {
        var k = new byte[VolumePrefixLength + 1 + 8];
        VolumeKey(vol, (byte)'T').CopyTo(k, 0);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(VolumePrefixLength + 1), id);
        return k;
    }

    public static byte[] TrashEntryEnd(uint vol) => VolumeKey(vol, (byte)'T' + 1);

    public static byte[] Export(string name)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        var k = new byte[1 + n];
        k[0] = (byte)'E';
        Encoding.UTF8.GetBytes(name, k.AsSpan(1));
        return k;
    }

    public static readonly byte[] NextVolume = [(byte)'G', (byte)'v'];
    public static readonly byte[] NextSlice = [(byte)'G', (byte)'s'];
    public static readonly byte[] Secret = [(byte)'G', (byte)'k'];

    /// <summary>A gateway's heartbeat row (cluster membership); the range of all of them is [NodesStart, NodesEnd).</summary>
    public static byte[] Node(string nodeId)
    {
        var k = new byte[1 + Encoding.UTF8.GetByteCount(nodeId)];
        k[0] = (byte)'H';
        Encoding.UTF8.GetBytes(nodeId, k.AsSpan(1));
        return k;
    }

    public static readonly byte[] NodesStart = [(byte)'H'];
    public static readonly byte[] NodesEnd = [(byte)'H' + 1];

    public static byte[] DeleteQueue(ulong ms, ulong slice)
    {
        var k = new byte[17];
        k[0] = (byte)'L';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), ms);
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(9), slice);
        return k;
    }

    public static readonly byte[] DeleteQueueStart = [(byte)'L'];
    public static readonly byte[] DeleteQueueEnd = [(byte)'L' + 1];

    public static ulong SliceIdOfDeleteQueue(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[9..]);

    /// <summary>The bytes of an inline slice (a small flush committed in the metadata; compaction moves them to objects).</summary>
    public static byte[] InlineData(ulong slice)
    {
        var k = new byte[9];
        k[0] = (byte)'J';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), slice);
        return k;
    }

    public static readonly byte[] InlineDataStart = [(byte)'J'];
    public static readonly byte[] InlineDataEnd = [(byte)'J' + 1];
    public static ulong SliceIdOfInlineData(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[1..]);

    public static byte[] DeleteIndex(ulong slice)
    {
        var k = new byte[9];
        k[0] = (byte)'M';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(1), slice);
        return k;
    }

    private static byte[] VolumeKey(uint vol, byte kind)
    {
        var k = new byte[VolumePrefixLength + 1];
        k[0] = (byte)'V';
        BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(1), vol);
        k[VolumePrefixLength] = kind;
        return k;
    }

    private static byte[] InodeKey(uint vol, ulong ino, byte kind, int extra)
    {
        var k = new byte[InodePrefixLength + 1 + extra];
        k[0] = (byte)'V';
        BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(1), vol);
        k[VolumePrefixLength] = (byte)'A';
        BinaryPrimitives.WriteUInt64BigEndian(k.AsSpan(VolumePrefixLength + 1), ino);
        k[InodePrefixLength] = kind;
        return k;
    }
}
