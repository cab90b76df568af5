using NfsGate.Server.Config;

namespace NfsGate.Server.Tests.ScaleOut;

/// <summary>appliance/compose/nfsgate.json stays a valid gateway config, with the password coming from the environment.</summary>
public sealed class ComposeConfigTests
{
    static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NfsGate.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException("repository root (NfsGate.sln) not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Compose_gateway_config_is_valid_and_shared()
    {
        const string cs = "Host=postgres;Port=5432;Database=nfsgate;Username=nfsgate;Password=from-env";
        var c = ConfigLoader.Load(RepoFile("appliance/compose/nfsgate.json"),
            new Dictionary<string, string> { ["NFSGATE_METADATA__CONNECTIONSTRING"] = cs });
        Assert.Equal(MetadataEngine.Postgres, c.Metadata.Engine);
        Assert.Equal(cs, c.Metadata.ConnectionString);
        Assert.Equal(ObjectStoreType.S3, c.ObjectStore.Type);
        Assert.Equal(2049, c.Listen.Port);
        Assert.Equal(9109, c.Http!.Port); // haproxy.cfg's check port in the compose file
        Assert.NotNull(Assert.Single(c.Exports).Clients);
    }
}
