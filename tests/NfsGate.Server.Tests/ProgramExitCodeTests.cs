namespace NfsGate.Server.Tests;

/// <summary>Exit codes of the real entry point: 2 for usage and config errors, 0 for help/version/check-config.</summary>
public class ProgramExitCodeTests
{
    [Fact]
    public async Task Unknown_flag_exits_2() => Assert.Equal(2, await Program.Main(["serve", "--bogus"]));

    [Fact]
    public async Task No_command_exits_2() => Assert.Equal(2, await Program.Main([]));

    [Fact]
    public async Task Version_and_help_exit_0()
    {
        Assert.Equal(0, await Program.Main(["version"]));
        Assert.Equal(0, await Program.Main(["help"]));
    }

    [Fact]
    public async Task Bad_config_exits_2_for_serve_and_check_config()
    {
        string file = Path.Combine(Path.GetTempPath(), $"nfsgate-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "exports": [ { "name": "a", "pahth": "/" } ] }""");
        try
        {
            Assert.Equal(2, await Program.Main(["check-config", "--config", file]));
            Assert.Equal(2, await Program.Main(["serve", "--config", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Good_config_passes_check_config()
    {
        string file = Path.Combine(Path.GetTempPath(), $"nfsgate-good-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "listen": "127.0.0.1:2049", /* ok */ }""");
        try
        {
            Assert.Equal(0, await Program.Main(["check-config", "--config", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Fsck_of_a_data_dir_that_was_never_served_exits_1()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"nfsgate-empty-{Guid.NewGuid():N}");
        Assert.Equal(1, await Program.Main(["fsck", "--data-dir", dir]));
        Assert.Equal(1, await Program.Main(["gc", "--data-dir", dir]));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task Fsck_of_the_memory_engine_exits_2()
    {
        string file = Path.Combine(Path.GetTempPath(), $"nfsgate-mem-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "metadata": { "engine": "memory" } }""");
        try
        {
            Assert.Equal(2, await Program.Main(["fsck", "--config", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
