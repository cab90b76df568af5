using NfsGate.Server.Cli;

namespace NfsGate.Server.Tests;

public class CommandLineTests
{
    [Fact]
    public void Serve_with_every_flag()
    {
        var c = CommandLine.Parse(["serve", "--config", "/etc/nfsgate.json", "--listen", "127.0.0.1:2049", "--data-dir=/data"]);
        Assert.Equal(CommandKind.Serve, c.Kind);
        Assert.Equal("/etc/nfsgate.json", c.ConfigFile);
        Assert.Equal([new("listen", "127.0.0.1:2049"), new("dataDir", "/data")], c.Overrides);
    }

    [Fact]
    public void Serve_alone_has_no_overrides()
    {
        var c = CommandLine.Parse(["serve"]);
        Assert.Equal(CommandKind.Serve, c.Kind);
        Assert.Null(c.ConfigFile);
        Assert.Empty(c.Overrides);
    }

    [Theory]
    [InlineData("version", CommandKind.Version)]
    [InlineData("--version", CommandKind.Version)]
    [InlineData("help", CommandKind.Help)]
    [InlineData("--help", CommandKind.Help)]
    [InlineData("-h", CommandKind.Help)]
    [InlineData("check-config", CommandKind.CheckConfig)]
    public void Commands(string arg, CommandKind kind) => Assert.Equal(kind, CommandLine.Parse([arg]).Kind);

    [Fact]
    public void Check_config_takes_a_config_file()
    {
        var c = CommandLine.Parse(["check-config", "--config=x.json"]);
        Assert.Equal(CommandKind.CheckConfig, c.Kind);
        Assert.Equal("x.json", c.ConfigFile);
    }

    [Fact]
    public void No_command_is_a_usage_error() =>
        Assert.Contains("no command", Assert.Throws<UsageException>(() => CommandLine.Parse([])).Message);

    [Fact]
    public void Help_flag_after_a_command_asks_for_help() =>
        Assert.Equal(CommandKind.Help, CommandLine.Parse(["serve", "--help"]).Kind);

    [Theory]
    [InlineData("unknown command", "mount")]
    [InlineData("unknown option \"--port\"", "serve", "--port", "1")]
    [InlineData("unknown option \"-c\"", "serve", "-c", "x")]
    [InlineData("unknown option \"extra\"", "serve", "extra")]
    [InlineData("--config needs a value", "serve", "--config")]
    [InlineData("--listen needs a non-empty value", "serve", "--listen=")]
    [InlineData("--config given twice", "serve", "--config", "a", "--config", "b")]
    [InlineData("takes no arguments", "version", "--config", "x")]
    public void Usage_errors(string expected, params string[] args)
    {
        var e = Assert.Throws<UsageException>(() => CommandLine.Parse(args));
        Assert.Contains(expected, e.Message);
    }
}
