using NfsGate.Server.Cli;

namespace NfsGate.Server.Tests;

public class MaintenanceCommandLineTests
{
    [Fact]
    public void Fsck_defaults_check_objects()
    {
        var c = CommandLine.Parse(["fsck", "--config", "a.json", "--data-dir=/d"]);
        Assert.Equal(CommandKind.Fsck, c.Kind);
        Assert.Equal("a.json", c.ConfigFile);
        Assert.Equal([new("dataDir", "/d")], c.Overrides);
        Assert.False(c.MetadataOnly);
    }

    [Fact]
    public void Fsck_metadata_only() => Assert.True(CommandLine.Parse(["fsck", "--metadata-only"]).MetadataOnly);

    [Fact]
    public void Gc_is_a_dry_run_without_a_bound_by_default()
    {
        var c = CommandLine.Parse(["gc"]);
        Assert.Equal(CommandKind.Gc, c.Kind);
        Assert.False(c.Delete);
        Assert.Null(c.MaxSliceId);
    }

    [Fact]
    public void Gc_delete_with_a_bound()
    {
        var c = CommandLine.Parse(["gc", "--delete", "--max-slice-id", "18446744073709551615"]);
        Assert.True(c.Delete);
        Assert.Equal(ulong.MaxValue, c.MaxSliceId);
        Assert.Equal(42UL, CommandLine.Parse(["gc", "--max-slice-id=42"]).MaxSliceId);
    }

    [Theory]
    [InlineData("unknown option \"--delete\" for \"fsck\"", "fsck", "--delete")]
    [InlineData("unknown option \"--listen\" for \"gc\"", "gc", "--listen", "127.0.0.1:1")]
    [InlineData("unknown option \"--metadata-only\" for \"gc\"", "gc", "--metadata-only")]
    [InlineData("unknown option \"--max-slice-id\" for \"serve\"", "serve", "--max-slice-id", "1")]
    [InlineData("--delete takes no value", "gc", "--delete=yes")]
    [InlineData("--max-slice-id needs a non-negative integer", "gc", "--max-slice-id", "-1")]
    [InlineData("--max-slice-id needs a non-negative integer", "gc", "--max-slice-id", "12x")]
    [InlineData("--max-slice-id needs a value", "gc", "--max-slice-id")]
    public void Usage_errors(string expected, params string[] args)
    {
        var e = Assert.Throws<UsageException>(() => CommandLine.Parse(args));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Usage_errors_exit_2() => Assert.Equal(2, await Program.Main(["gc", "--delete=1"]));
}
