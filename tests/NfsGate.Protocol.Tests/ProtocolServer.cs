using NfsGate.Protocol;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>One in-process server for the whole collection; each test takes a fresh export.</summary>
public sealed class ProtocolServer : IAsyncLifetime
{
    public ServerFixture Fixture { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Fixture = ServerFixture.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Fixture.DisposeAsync();

    /// <summary>A new export, a client connected as root (AUTH_SYS 0/0), and the export's root handle from MNT.</summary>
    public async Task<(Nfs3Client Client, byte[] Root, Export Export)> FreshAsync()
    {
        var e = Fixture.AddExport();
        var c = await Fixture.ConnectAsync();
        var root = await c.MountHandleAsync(e.Path);
        return (c, root, e);
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ProtocolServer>
{
    public const string Name = "protocol server";
}
