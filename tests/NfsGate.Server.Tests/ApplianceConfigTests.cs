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
        var e = Assert.Single(c.Exports);
        Assert.Equal(("default", "/", false), (e.Name, e.Path, e.ReadOnly));
        // The example shows explicit rules with root squash, never an open export.
        Assert.NotNull(e.Clients);
        Assert.All(e.Clients, r => Assert.Equal(NfsGate.Protocol.SquashMode.Root, r.Squash));
    }
}
