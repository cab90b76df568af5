namespace NfsGate.Protocol.Tests;

public class ExportTableTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a/", "/a")]
    [InlineData("//a//b", "/a/b")]
    [InlineData("a", null)]
    [InlineData("", null)]
    public void Paths_are_normalized(string input, string? expected) => Assert.Equal(expected, ExportTable.NormalizePath(input));

    [Fact]
    public void Duplicate_ids_or_paths_are_refused()
    {
        var t = new ExportTable();
        Assert.Throws<ArgumentException>(() => t.Replace([new Export(1, "a", "/a", false, null!), new Export(1, "b", "/b", false, null!)]));
        Assert.Throws<ArgumentException>(() => t.Replace([new Export(1, "a", "/a", false, null!), new Export(2, "b", "/a/", false, null!)]));
        Assert.Throws<ArgumentException>(() => t.Replace([new Export(1, "a", "rel", false, null!)]));
    }

    [Fact]
    public void Lookup_by_id_sees_the_latest_table()
    {
        var t = new ExportTable([new Export(1, "a", "/a", false, null!)]);
        Assert.Equal("a", t.ById(1)?.Name);
        t.Replace([new Export(2, "b", "/b", true, null!)]);
        Assert.Null(t.ById(1));
        Assert.True(t.ById(2)!.ReadOnly);
    }

    [Fact]
    public void A_path_outside_every_export_is_noent_and_relative_is_inval()
    {
        var t = new ExportTable([new Export(1, "a", "/a", false, null!)]);
        Assert.Equal(MountStat3.MNT3ERR_NOENT, t.Resolve("/ab", out _, out _));
        Assert.Equal(MountStat3.MNT3ERR_NOENT, t.Resolve("/b", out _, out _));
        Assert.Equal(MountStat3.MNT3ERR_INVAL, t.Resolve("a", out _, out _));
    }
}
