using System.Net;
using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

public class ByteSizeAndEndpointTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("10GiB", 10L << 30)]
    [InlineData("1.5TiB", 3L << 39)]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("100B", 100L)]
    [InlineData(" 2 GiB ", 2L << 30)]
    public void Sizes_parse(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GiB")]
    [InlineData("10GB")]
    [InlineData("10 gigs")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5")]
    [InlineData("0.1B")]
    [InlineData("99999999999TiB")]
    public void Bad_sizes_are_rejected(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(10L << 30, "10GiB")]
    [InlineData(3L << 39, "1536GiB")]
    [InlineData(1000L, "1000")]
    [InlineData(0L, "0")]
    public void Sizes_format_exactly(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));

    [Theory]
    [InlineData("0.0.0.0:2049", "0.0.0.0", 2049)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("*:111", "0.0.0.0", 111)]
    [InlineData("localhost:9109", "127.0.0.1", 9109)]
    [InlineData("[::]:2049", "::", 2049)]
    [InlineData("[::1]:2049", "::1", 2049)]
    public void Addresses_parse(string text, string address, int port)
    {
        Assert.True(Endpoint.TryParse(text, out var ep));
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), ep);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2049")]
    [InlineData(":2049")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:-1")]
    [InlineData("127.1:80")]
    [InlineData("::1:2049")]
    [InlineData("[127.0.0.1]:80")]
    [InlineData("example.com:80")]
    public void Bad_addresses_are_rejected(string text) => Assert.False(Endpoint.TryParse(text, out _));
}
