using System.Buffers;
using NfsGate.Rpc;

namespace NfsGate.Rpc.Tests;

public class RecordAssemblerTests
{
    private static byte[] Fragment(bool last, params byte[] body)
    {
        var f = new byte[4 + body.Length];
        RecordMarking.WriteHeader(f, body.Length, last);
        body.CopyTo(f, 4);
        return f;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Bytes(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

    // Each vector: the wire bytes and the records they hold.
    public static TheoryData<string, byte[], byte[][]> Vectors()
    {
        var a = Bytes(13, 1);
        var b = Bytes(7, 2);
        var c = Bytes(1, 3);
        return new TheoryData<string, byte[], byte[][]>
        {
            { "single", Fragment(true, a), [a] },
            { "empty record", Fragment(true), [[]] },
            { "three fragments", Concat(Fragment(false, a), Fragment(false, b), Fragment(true, c)), [Concat(a, b, c)] },
            { "empty fragments around data", Concat(Fragment(false), Fragment(false, a), Fragment(false), Fragment(true)), [a] },
            { "two records", Concat(Fragment(true, a), Fragment(false, b), Fragment(true, c)), [a, Concat(b, c)] },
            { "three records", Concat(Fragment(true, c), Fragment(true), Fragment(true, b)), [c, [], b] },
        };
    }

    private static List<byte[]> Feed(RecordAssembler asm, IEnumerable<ReadOnlySequence<byte>> chunks)
    {
        var records = new List<byte[]>();
        foreach (var chunk in chunks)
        {
            var seq = chunk;
            while (true)
            {
                var st = asm.TryRead(ref seq, out var rec);
                Assert.NotEqual(RecordStatus.TooLarge, st);
                if (st == RecordStatus.NeedMore) { Assert.True(seq.IsEmpty); break; }
                records.Add(rec.Span.ToArray());
                rec.Return();
            }
        }
        return records;
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes_at_every_split_point(string name, byte[] wire, byte[][] expected)
    {
        _ = name;
        for (int split = 0; split <= wire.Length; split++)
        {
            using var asm = new RecordAssembler(1024);
            var got = Feed(asm, [new(wire.AsMemory(0, split)), new(wire.AsMemory(split))]);
            Assert.Equal(expected, got);
            Assert.False(asm.InProgress);
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes_a_two_segment_sequence_at_every_split_point(string name, byte[] wire, byte[][] expected)
    {
        _ = name;
        for (int split = 0; split <= wire.Length; split++)
        {
            using var asm = new RecordAssembler(1024);
            Assert.Equal(expected, Feed(asm, [TwoSegments(wire, split)]));
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes_byte_at_a_time(string name, byte[] wire, byte[][] expected)
    {
        _ = name;
        using var asm = new RecordAssembler(1024);
        var chunks = Enumerable.Range(0, wire.Length).Select(i => new ReadOnlySequence<byte>(wire.AsMemory(i, 1)));
        Assert.Equal(expected, Feed(asm, chunks));
    }

    [Fact]
    public void Leaves_the_next_record_in_the_input()
    {
        var wire = Concat(Fragment(true, 1, 2), Fragment(true, 3));
        using var asm = new RecordAssembler(64);
        var seq = new ReadOnlySequence<byte>(wire);
        Assert.Equal(RecordStatus.Complete, asm.TryRead(ref seq, out var rec));
        Assert.Equal(new byte[] { 1, 2 }, rec.Span.ToArray());
        rec.Return();
        Assert.Equal(5, seq.Length);
    }

    [Fact]
    public void In_progress_from_the_first_header_byte_until_the_record_ends()
    {
        using var asm = new RecordAssembler(64);
        Assert.False(asm.InProgress);
        var wire = Concat(Fragment(false, 1), Fragment(true, 2));
        for (int i = 0; i < wire.Length - 1; i++)
        {
            var seq = new ReadOnlySequence<byte>(wire.AsMemory(i, 1));
            Assert.Equal(RecordStatus.NeedMore, asm.TryRead(ref seq, out _));
            Assert.True(asm.InProgress);
        }
        var last = new ReadOnlySequence<byte>(wire.AsMemory(wire.Length - 1));
        Assert.Equal(RecordStatus.Complete, asm.TryRead(ref last, out var rec));
        rec.Return();
        Assert.False(asm.InProgress);
    }

    [Fact]
    public void Record_of_exactly_the_cap_is_accepted()
    {
        var body = Bytes(100, 4);
        using var asm = new RecordAssembler(100);
        var seq = new ReadOnlySequence<byte>(Concat(Fragment(false, body[..60]), Fragment(true, body[60..])));
        Assert.Equal(RecordStatus.Complete, asm.TryRead(ref seq, out var rec));
        Assert.Equal(body, rec.Span.ToArray());
        rec.Return();
    }

    [Theory]
    [InlineData(101u)]
    [InlineData(0x7FFFFFFFu)]
    public void Oversized_fragment_header_is_refused_before_its_body_arrives(uint announced)
    {
        using var asm = new RecordAssembler(100);
        var header = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, announced | RecordMarking.LastFragmentBit);
        var seq = new ReadOnlySequence<byte>(header);
        Assert.Equal(RecordStatus.TooLarge, asm.TryRead(ref seq, out _));
    }

    [Fact]
    public void Fragments_adding_up_past_the_cap_are_refused()
    {
        using var asm = new RecordAssembler(100);
        var seq = new ReadOnlySequence<byte>(Concat(Fragment(false, new byte[60]), Fragment(false, new byte[40]), Fragment(true, new byte[1])));
        Assert.Equal(RecordStatus.TooLarge, asm.TryRead(ref seq, out _));
    }

    [Fact]
    public void Many_fragments_reassemble_into_one_record()
    {
        var body = Bytes(5000, 5);
        var wire = new List<byte>();
        for (int off = 0; off < body.Length; off += 37)
        {
            int n = Math.Min(37, body.Length - off);
            wire.AddRange(Fragment(off + n == body.Length, body[off..(off + n)]));
        }
        using var asm = new RecordAssembler(8192);
        var got = Feed(asm, [new(wire.ToArray())]);
        Assert.Single(got);
        Assert.Equal(body, got[0]);
    }

    [Fact]
    public void Writer_frames_a_single_last_fragment()
    {
        var output = new ArrayBufferWriter<byte>();
        RecordMarking.WriteRecord(output, [1, 2, 3, 4, 5]);
        Assert.Equal(new byte[] { 0x80, 0, 0, 5, 1, 2, 3, 4, 5 }, output.WrittenSpan.ToArray());
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] wire, int split)
    {
        var first = new Segment(wire.AsMemory(0, split), 0);
        var second = first.Append(wire.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex) { Memory = memory; RunningIndex = runningIndex; }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
