using System.Buffers.Binary;
using System.Text;

namespace NfsGate.Metadata;

/// <summary>
/// Value encodings (see the table in <see cref="Keys"/>). The first byte is the format version so a later
/// format can be read side by side with this one; a value with an unknown version is corruption, not a status.
/// </summary>
public static class Codec
{
    public const byte Version = 1;

    // ver(1) type(1) mode(4) nlink(4) uid(4) gid(4) size(8) rdev(4+4) atime/mtime/ctime(3 x 12) parent(8) generation(4)
    public const int AttrLength = 1 + 1 + 4 + 4 + 4 + 4 + 8 + 8 + 36 + 8 + 4;
    public const int SliceLength = 24;

    public static byte[] EncodeAttr(in Attr a)
    {
        var b = new byte[AttrLength];
        var s = b.AsSpan();
        s[0] = Version;
        s[1] = (byte)a.Type;
        BinaryPrimitives.WriteUInt32LittleEndian(s[2..], a.Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(s[6..], a.Nlink);
        BinaryPrimitives.WriteUInt32LittleEndian(s[10..], a.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(s[14..], a.Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(s[18..], a.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(s[26..], a.RdevMajor);
        BinaryPrimitives.WriteUInt32LittleEndian(s[30..], a.RdevMinor);
        WriteTime(s[34..], a.Atime);
        WriteTime(s[46..], a.Mtime);
        WriteTime(s[58..], a.Ctime);
        BinaryPrimitives.WriteUInt64LittleEndian(s[70..], a.Parent);
        BinaryPrimitives.WriteUInt32LittleEndian(s[78..], a.Generation);
        return b;
    }

    public static Attr DecodeAttr(ulong ino, ReadOnlySpan<byte> s)
    {
        CheckVersion(s, AttrLength);
        return new Attr
        {
            Inode = ino,
            Type = (FileType)s[1],
            Mode = BinaryPrimitives.ReadUInt32LittleEndian(s[2..]),
            Nlink = BinaryPrimitives.ReadUInt32LittleEndian(s[6..]),
            Uid = BinaryPrimitives.ReadUInt32LittleEndian(s[10..]),
            Gid = BinaryPrimitives.ReadUInt32LittleEndian(s[14..]),
            Size = BinaryPrimitives.ReadUInt64LittleEndian(s[18..]),
            RdevMajor = BinaryPrimitives.ReadUInt32LittleEndian(s[26..]),
            RdevMinor = BinaryPrimitives.ReadUInt32LittleEndian(s[30..]),
            Atime = ReadTime(s[34..]),
            Mtime = ReadTime(s[46..]),
            Ctime = ReadTime(s[58..]),
            Parent = BinaryPrimitives.ReadUInt64LittleEndian(s[70..]),
            Generation = BinaryPrimitives.ReadUInt32LittleEndian(s[78..]),
        };
    }

    public static byte[] EncodeDentry(FileType type, ulong ino, ulong seq)
    {
        var b = new byte[18];
        b[0] = Version;
        b[1] = (byte)type;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(2), ino);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(10), seq);
        return b;
    }

    public static (FileType Type, ulong Ino, ulong Seq) DecodeDentry(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 18);
        return ((FileType)s[1], BinaryPrimitives.ReadUInt64LittleEndian(s[2..]), BinaryPrimitives.ReadUInt64LittleEndian(s[10..]));
    }

    public static byte[] EncodeIndex(ulong ino, FileType type, ReadOnlySpan<byte> name)
    {
        var b = new byte[10 + name.Length];
        b[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(1), ino);
        b[9] = (byte)type;
        name.CopyTo(b.AsSpan(10));
        return b;
    }

    public static (ulong Ino, FileType Type, string Name) DecodeIndex(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 10);
        return (BinaryPrimitives.ReadUInt64LittleEndian(s[1..]), (FileType)s[9], Encoding.UTF8.GetString(s[10..]));
    }

    public static byte[] EncodeSlices(byte[]? existing, IReadOnlyList<Slice> add)
    {
        int old = existing is null ? 1 : existing.Length;
        var b = new byte[old + add.Count * SliceLength];
        if (existing is null) b[0] = Version;
        else
        {
            CheckVersion(existing, 1);
            existing.CopyTo(b, 0);
        }
        for (int i = 0; i < add.Count; i++) WriteSlice(b.AsSpan(old + i * SliceLength), add[i]);
        return b;
    }

    public static byte[] AppendSlice(byte[]? existing, Slice add)
    {
        int old = existing is null ? 1 : existing.Length;
        var b = new byte[old + SliceLength];
        if (existing is null) b[0] = Version;
        else
        {
            CheckVersion(existing, 1);
            existing.CopyTo(b, 0);
        }
        WriteSlice(b.AsSpan(old), add);
        return b;
    }

    public static Slice[] DecodeSlices(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 1);
        if ((s.Length - 1) % SliceLength != 0) throw new InvalidDataException("slice list length " + s.Length);
        var r = new Slice[(s.Length - 1) / SliceLength];
        for (int i = 0; i < r.Length; i++)
        {
            var p = s.Slice(1 + i * SliceLength, SliceLength);
            r[i] = new Slice(BinaryPrimitives.ReadUInt64LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(p[12..]), BinaryPrimitives.ReadUInt32LittleEndian(p[16..]),
                BinaryPrimitives.ReadUInt32LittleEndian(p[20..]));
        }
        return r;
    }

    public static byte[] EncodeString(string v)
    {
        var b = new byte[1 + Encoding.UTF8.GetByteCount(v)];
        b[0] = Version;
        Encoding.UTF8.GetBytes(v, b.AsSpan(1));
        return b;
    }

    public static string DecodeString(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 1);
        return Encoding.UTF8.GetString(s[1..]);
    }

    /// <summary>
    /// An inline slice's row: when it was written and the one chunk that references it (so a sweep can find the chunk
    /// from the row alone, also after a restart), then the bytes.
    /// </summary>
    public static byte[] EncodeInline(ulong ms, uint vol, ulong ino, uint chunk, ReadOnlySpan<byte> bytes)
    {
        var b = new byte[InlineHeader + bytes.Length];
        b[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(1), ms);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(9), vol);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(13), ino);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(21), chunk);
        bytes.CopyTo(b.AsSpan(InlineHeader));
        return b;
    }

    /// <summary>Bytes before an inline row's data.</summary>
    public const int InlineHeader = 25;

    /// <summary>The slice bytes of an inline row (what follows its header); false when the row is malformed.</summary>
    public static bool TryInlineBytes(ReadOnlySpan<byte> row, out ReadOnlySpan<byte> bytes)
    {
        bool ok = row.Length >= InlineHeader && row[0] == Version;
        bytes = ok ? row[InlineHeader..] : default;
        return ok;
    }

    public static InlineRow DecodeInlineRow(ulong id, ReadOnlySpan<byte> s)
    {
        CheckVersion(s, InlineHeader);
        return new InlineRow(id, BinaryPrimitives.ReadUInt64LittleEndian(s[1..]), BinaryPrimitives.ReadUInt32LittleEndian(s[9..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[13..]), BinaryPrimitives.ReadUInt32LittleEndian(s[21..]), s.Length - InlineHeader);
    }

    public static byte[] EncodeU64(ulong v)
    {
        var b = new byte[9];
        b[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(1), v);
        return b;
    }

    public static ulong DecodeU64(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 9);
        return BinaryPrimitives.ReadUInt64LittleEndian(s[1..]);
    }

    public static byte[] EncodeU32(uint v)
    {
        var b = new byte[5];
        b[0] = Version;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(1), v);
        return b;
    }

    public static uint DecodeU32(ReadOnlySpan<byte> s)
    {
        CheckVersion(s, 5);
        return BinaryPrimitives.ReadUInt32LittleEndian(s[1..]);
    }

    private static void WriteSlice(Span<byte> p, Slice s)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(p, s.Id);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], s.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], s.Pos);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], s.Off);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], s.Len);
    }

    private static void WriteTime(Span<byte> s, Timespec t)
    {
        BinaryPrimitives.WriteInt64LittleEndian(s, t.Seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], t.Nanos);
    }

    private static Timespec ReadTime(ReadOnlySpan<byte> s) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[8..]));

    private static void CheckVersion(ReadOnlySpan<byte> s, int minLength)
    {
        if (s.Length < minLength || s[0] != Version)
            throw new InvalidDataException($"metadata value: version {(s.Length > 0 ? s[0] : -1)}, length {s.Length}");
    }
}
