using NfsGate.Server.Config;

namespace NfsGate.Server.Tests;

/// <summary>The shipped example config must stay valid as keys change.</summary>
public class ApplianceConfigTests
{
    static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NfsGate.sln")))
                return Path.Combine(dir.FullName, relative);
        }
        throw new FileNotFoundException("repository root (NfsGate.sln) not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Example_config_is_valid()
    {
        var c = ConfigLoader.Load(RepoFile("appliance/nfsgate.json"), new Dictionary<string, string>());
        Assert.Equal("/var/lib/nfsgate", c.DataDir);
        Assert.Equal(10L << 30, c.Cache.SizeBytes);
        Assert.True(c.Cache.IsActive);
        Assert.Equal(ObjectStoreType.Local, c.ObjectStore.Type);
        Assert.Equal([new ExportConfig("default", "/", false)], c.Exports);
    }
}
