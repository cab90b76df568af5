using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using NfsGate.Rpc.Proxy;

namespace NfsGate.Rpc.Tests;

/// <summary>PROXY protocol v1/v2 header vectors (haproxy doc/proxy-protocol.txt), each fed at every split point.</summary>
public class ProxyHeaderParserTests
{
    const string Sig = "0D0A0D0A000D0A515549540A";
    // PROXY, TCP over IPv4, 12 bytes: 10.1.2.3:51234 -> 127.0.0.1:2049 (51234 = 0xC822, 2049 = 0x0801).
    internal static readonly byte[] V2Ipv4 = Convert.FromHexString(Sig + "21" + "11" + "000C" + "0A010203" + "7F000001" + "C822" + "0801");
    // PROXY, TCP over IPv6, 36 bytes: [2001:db8::1]:1000 -> [::1]:2049.
    static readonly byte[] V2Ipv6 = Convert.FromHexString(Sig + "21" + "21" + "0024"
        + "20010DB8000000000000000000000001" + "00000000000000000000000000000001" + "03E8" + "0801");
    // LOCAL (what HAProxy's own checks send), AF_UNSPEC, no address block.
    internal static readonly byte[] V2Local = Convert.FromHexString(Sig + "20" + "00" + "0000");
    // IPv4 plus a NOOP TLV (type 0x04, length 3): TLVs are counted in len and must be skipped.
    static readonly byte[] V2WithTlv = Convert.FromHexString(Sig + "21" + "11" + "0012" + "0A010203" + "7F000001" + "C822" + "0801" + "04" + "0003" + "AABBCC");
    internal static readonly byte[] V1Ipv4 = Encoding.ASCII.GetBytes("PROXY TCP4 10.1.2.3 127.0.0.1 51234 2049\r\n");
    static readonly byte[] RpcBytes = [0x80, 0x00, 0x00, 0x28, 0x12, 0x34];

    static ProxyHeaderStatus Parse(byte[] data, out ProxyHeader header, out int consumed) =>
        ProxyHeaderParser.TryParse(data.AsSpan(), out header, out consumed);

    public static TheoryData<string, byte[], string?, int> Valid => new()
    {
        { "v2 ipv4", V2Ipv4, "10.1.2.3:51234", 28 },
        { "v2 ipv6", V2Ipv6, "[2001:db8::1]:1000", 52 },
        { "v2 local", V2Local, null, 16 },
        { "v2 tlv", V2WithTlv, "10.1.2.3:51234", 34 },
        { "v1 tcp4", V1Ipv4, "10.1.2.3:51234", V1Ipv4.Length },
        { "v1 tcp6", Encoding.ASCII.GetBytes("PROXY TCP6 2001:db8::1 ::1 1000 2049\r\n"), "[2001:db8::1]:1000", 38 },
        { "v1 unknown", Encoding.ASCII.GetBytes("PROXY UNKNOWN\r\n"), null, 15 },
        { "v1 unknown with addresses", Encoding.ASCII.GetBytes("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"), null, 59 },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Valid_header_parses_and_consumes_exactly_itself(string name, byte[] header, string? source, int length)
    {
        _ = name;
        byte[] data = [.. header, .. RpcBytes];
        Assert.Equal(ProxyHeaderStatus.Ok, Parse(data, out var h, out int consumed));
        Assert.Equal(length, consumed);
        Assert.Equal(header.Length, consumed);
        Assert.Equal(source, h.Source?.ToString());
        Assert.Equal(source is null, h.IsLocal);
        Assert.Equal(header[0] == 0x0D ? 2 : 1, h.Version);
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Every_prefix_of_a_valid_header_needs_more(string name, byte[] header, string? source, int length)
    {
        _ = (name, source, length);
        for (int k = 0; k < header.Length; k++)
            Assert.Equal(ProxyHeaderStatus.NeedMore, ProxyHeaderParser.TryParse(header.AsSpan(0, k), out _, out int consumed));
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void A_header_split_across_two_segments_parses_the_same(string name, byte[] header, string? source, int length)
    {
        _ = (name, length);
        byte[] data = [.. header, .. RpcBytes];
        for (int split = 0; split <= data.Length; split++)
        {
            var seq = TwoSegments(data, split);
            Assert.Equal(ProxyHeaderStatus.Ok, ProxyHeaderParser.TryParse(seq, out var h, out int consumed));
            Assert.Equal(header.Length, consumed);
            Assert.Equal(source, h.Source?.ToString());
        }
    }

    [Fact]
    public void V2_ipv4_destination_is_read_too()
    {
        Assert.Equal(ProxyHeaderStatus.Ok, Parse(V2Ipv4, out var h, out _));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 2049), h.Destination);
    }

    [Theory]
    [InlineData("80000028", ProxyHeaderStatus.BadSignature)]                          // an RPC record mark: a client talking RPC directly
    [InlineData("0D0A0D0A000D0A5155495458" + "21110000", ProxyHeaderStatus.BadSignature)] // last signature byte wrong
    [InlineData("0D0A0E", ProxyHeaderStatus.BadSignature)]                            // wrong already within a short prefix
    [InlineData("50524F5859", ProxyHeaderStatus.NeedMore)]                            // "PROXY" without the space yet
    [InlineData("50524F5858", ProxyHeaderStatus.BadSignature)]                        // "PROXX"
    [InlineData("474554202F20485454502F312E310D0A", ProxyHeaderStatus.BadSignature)]  // "GET / HTTP/1.1\r\n"
    [InlineData(Sig + "11" + "11" + "000C", ProxyHeaderStatus.UnsupportedVersion)]   // version 1 in the binary format
    [InlineData(Sig + "22" + "11" + "000C", ProxyHeaderStatus.UnsupportedVersion)]   // command 2 is undefined
    [InlineData(Sig + "21" + "11" + "0201", ProxyHeaderStatus.TooLong)]              // 513 bytes announced: refused before they arrive
    [InlineData(Sig + "21" + "11" + "FFFF", ProxyHeaderStatus.TooLong)]
    [InlineData(Sig + "21" + "31" + "0000", ProxyHeaderStatus.UnsupportedFamily)]    // AF_UNIX
    [InlineData(Sig + "21" + "12" + "000C" + "0A0102037F000001C8220801", ProxyHeaderStatus.UnsupportedFamily)] // UDP over IPv4
    [InlineData(Sig + "21" + "41" + "0000", ProxyHeaderStatus.UnsupportedFamily)]    // undefined family
    [InlineData(Sig + "21" + "11" + "0008" + "0A0102037F000001", ProxyHeaderStatus.Malformed)] // IPv4 block without ports
    [InlineData(Sig + "21" + "21" + "000C" + "0A0102037F000001C8220801", ProxyHeaderStatus.Malformed)] // IPv6 announced, IPv4-sized block
    public void Invalid_v2_and_foreign_bytes_get_their_status(string hex, ProxyHeaderStatus expected)
    {
        Assert.Equal(expected, Parse(Convert.FromHexString(hex), out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void V2_of_exactly_the_cap_is_accepted()
    {
        byte[] data = [.. Convert.FromHexString(Sig + "20" + "00" + "0200"), .. new byte[ProxyHeaderParser.MaxV2Length]];
        Assert.Equal(ProxyHeaderStatus.NeedMore, Parse(data[..^1], out _, out _));
        Assert.Equal(ProxyHeaderStatus.Ok, Parse(data, out var h, out int consumed));
        Assert.Equal(16 + 512, consumed);
        Assert.True(h.IsLocal);
    }

    [Theory]
    [InlineData("PROXY TCP4 10.1.2.3 127.0.0.1 51234\r\n", ProxyHeaderStatus.Malformed)]          // a field missing
    [InlineData("PROXY TCP4 10.1.2.3 127.0.0.1 51234 2049 9\r\n", ProxyHeaderStatus.Malformed)]   // one too many
    [InlineData("PROXY TCP4  10.1.2.3 127.0.0.1 51234 2049\r\n", ProxyHeaderStatus.Malformed)]    // double space
    [InlineData("PROXY TCP4 ::1 127.0.0.1 51234 2049\r\n", ProxyHeaderStatus.Malformed)]          // IPv6 under TCP4
    [InlineData("PROXY TCP6 10.1.2.3 ::1 51234 2049\r\n", ProxyHeaderStatus.Malformed)]           // IPv4 under TCP6
    [InlineData("PROXY TCP4 10.1.2 127.0.0.1 51234 2049\r\n", ProxyHeaderStatus.Malformed)]       // not a dotted quad
    [InlineData("PROXY TCP4 167838211 127.0.0.1 51234 2049\r\n", ProxyHeaderStatus.Malformed)]    // integer form
    [InlineData("PROXY TCP4 10.1.2.3 127.0.0.1 70000 2049\r\n", ProxyHeaderStatus.Malformed)]     // port out of range
    [InlineData("PROXY TCP4 10.1.2.3 127.0.0.1 -1 2049\r\n", ProxyHeaderStatus.Malformed)]
    [InlineData("PROXY TCP4 10.1.2.3 127.0.0.1 51234 2049\n", ProxyHeaderStatus.NeedMore)]        // LF alone does not end the line
    [InlineData("PROXY UDP4 10.1.2.3 127.0.0.1 51234 2049\r\n", ProxyHeaderStatus.UnsupportedFamily)]
    [InlineData("PROXY \r\n", ProxyHeaderStatus.Malformed)]
    public void Invalid_v1_lines_get_their_status(string line, ProxyHeaderStatus expected)
    {
        Assert.Equal(expected, Parse(Encoding.ASCII.GetBytes(line), out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void V1_line_without_crlf_within_107_bytes_is_too_long()
    {
        byte[] line = Encoding.ASCII.GetBytes("PROXY TCP6 " + new string('1', 200));
        Assert.Equal(ProxyHeaderStatus.NeedMore, Parse(line[..106], out _, out _));
        Assert.Equal(ProxyHeaderStatus.TooLong, Parse(line[..107], out _, out _));
        Assert.Equal(ProxyHeaderStatus.TooLong, Parse(line, out _, out _));
        // The CRLF just past the limit does not count either.
        byte[] late = [.. line[..107], (byte)'\r', (byte)'\n'];
        Assert.Equal(ProxyHeaderStatus.TooLong, Parse(late, out _, out _));
    }

    [Fact]
    public void V1_with_control_or_non_ascii_bytes_is_malformed()
    {
        Assert.Equal(ProxyHeaderStatus.Malformed, Parse(Encoding.ASCII.GetBytes("PROXY TCP4 10.1.2.3\t127.0.0.1 1 2\r\n"), out _, out _));
        byte[] high = Encoding.ASCII.GetBytes("PROXY TCP4 10.1.2.3 127.0.0.1 1 2\r\n");
        high[12] = 0xB1; // a byte that Encoding.ASCII would quietly turn into '?'
        Assert.Equal(ProxyHeaderStatus.Malformed, Parse(high, out _, out _));
    }

    [Fact]
    public void Random_garbage_never_throws_and_never_consumes_past_the_input()
    {
        var rng = new Random(20261129);
        var sig = Convert.FromHexString(Sig);
        var statuses = new HashSet<ProxyHeaderStatus>();
        for (int i = 0; i < 20_000; i++)
        {
            var data = new byte[rng.Next(0, 700)];
            rng.NextBytes(data);
            // Half of the inputs start with a real prefix so the parser gets past the signature check.
            if (i % 2 == 0 && data.Length >= 16)
            {
                sig.CopyTo(data, 0);
                data[12] = (byte)(0x20 | rng.Next(0, 3));
                data[13] = (byte)(rng.Next(0, 4) << 4 | rng.Next(0, 3));
                data[14] = (byte)rng.Next(0, 3);
            }
            else if (i % 4 == 1 && data.Length >= 11)
                "PROXY TCP4 "u8.CopyTo(data);
            var status = ProxyHeaderParser.TryParse(data, out var h, out int consumed);
            statuses.Add(status);
            Assert.InRange(consumed, 0, data.Length);
            Assert.Equal(status == ProxyHeaderStatus.Ok, consumed > 0);
            if (status != ProxyHeaderStatus.Ok) Assert.Null(h.Source);
        }
        // The generator reaches the interesting outcomes, not only BadSignature.
        Assert.Contains(ProxyHeaderStatus.Ok, statuses);
        Assert.Contains(ProxyHeaderStatus.TooLong, statuses);
        Assert.Contains(ProxyHeaderStatus.NeedMore, statuses);
        Assert.Contains(ProxyHeaderStatus.BadSignature, statuses);
    }

    [Fact]
    public async Task Reader_leaves_the_bytes_after_the_header_in_the_pipe()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(V2Ipv4.AsMemory(0, 10));
        var read = ProxyHeaderReader.ReadAsync(pipe.Reader, TimeSpan.FromSeconds(30), CancellationToken.None);
        byte[] rest = [.. V2Ipv4[10..], .. RpcBytes];
        await pipe.Writer.WriteAsync(rest);
        var (status, header) = await read;
        Assert.Equal(ProxyHeaderStatus.Ok, status);
        Assert.Equal("10.1.2.3:51234", header.Source?.ToString());
        var after = await pipe.Reader.ReadAsync();
        Assert.Equal(RpcBytes, after.Buffer.ToArray());
    }

    [Fact]
    public async Task Reader_reports_a_close_mid_header_as_truncated()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(V2Ipv4.AsMemory(0, 20));
        await pipe.Writer.CompleteAsync();
        var (status, _) = await ProxyHeaderReader.ReadAsync(pipe.Reader, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(ProxyHeaderStatus.Truncated, status);
    }

    [Fact]
    public async Task Reader_gives_up_on_a_peer_that_never_sends()
    {
        var pipe = new Pipe();
        var (status, _) = await ProxyHeaderReader.ReadAsync(pipe.Reader, TimeSpan.FromMilliseconds(50), CancellationToken.None);
        Assert.Equal(ProxyHeaderStatus.Truncated, status);
    }

    static ReadOnlySequence<byte> TwoSegments(byte[] data, int split)
    {
        var first = new Segment(data.AsMemory(0, split));
        var last = first.Append(data.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
