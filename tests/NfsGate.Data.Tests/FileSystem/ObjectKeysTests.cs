using NfsGate.FileSystem;
using NfsGate.Metadata;

namespace NfsGate.Data.Tests.FileSystem;

public class ObjectKeysTests
{
    // Frozen: objects already in buckets are found (and garbage-collected) by these names.
    [Theory]
    [InlineData(5UL, 0, 10, "chunks/0/0/5_0_10")]
    [InlineData(1234UL, 2, 4194304, "chunks/0/1/1234_2_4194304")]
    [InlineData(1234567890UL, 3, 77, "chunks/1234/1234567/1234567890_3_77")]
    [InlineData(18446744073709551615UL, 0, 1, "chunks/18446744073709/18446744073709551/18446744073709551615_0_1")]
    public void BlockKeyFormatIsJuiceFs(ulong id, int block, int length, string expected) =>
        Assert.Equal(expected, ObjectKeys.BlockKey(id, block, length));

    [Fact]
    public void BlocksOfASliceAreFullThenRemainder()
    {
        const uint size = (uint)Layout.BlockSize * 2 + 5;
        Assert.Equal(3, ObjectKeys.BlockCount(size));
        Assert.Equal(Layout.BlockSize, ObjectKeys.BlockLength(size, 0));
        Assert.Equal(Layout.BlockSize, ObjectKeys.BlockLength(size, 1));
        Assert.Equal(5, ObjectKeys.BlockLength(size, 2));
        Assert.Equal(1, ObjectKeys.BlockCount((uint)Layout.BlockSize));
        Assert.Equal(0, ObjectKeys.BlockCount(0));
        Assert.Equal(16, ObjectKeys.BlockCount((uint)Layout.LegacyChunkSize));
    }
}
