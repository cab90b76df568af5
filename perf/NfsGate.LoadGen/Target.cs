using System.Net;
using NfsGate.Protocol;
using NfsGate.TestKit;

namespace NfsGate.LoadGen;

/// <summary>
/// One NFS server under test: where NFS and MOUNT listen (the same port for nfsgate, separate ones for ganesha) and
/// which path to mount. Resolves the export's root handle once; every load then opens its own connections.
/// </summary>
internal sealed class Target
{
    private Target(IPEndPoint nfs, byte[] root) { Nfs = nfs; Root = root; }

    public IPEndPoint Nfs { get; }
    public byte[] Root { get; }

    public static async Task<Target> OpenAsync(Args a)
    {
        var nfs = Args.EndPoint(a.Str("nfs"));
        var mount = Args.EndPoint(a.Str("mount", a.Str("nfs")));
        await using var m = await Nfs3Client.ConnectAsync(mount).ConfigureAwait(false);
        return new Target(nfs, await m.MountHandleAsync(a.Str("path", "/")).ConfigureAwait(false));
    }

    public Task<Nfs3Client> ConnectAsync() => Nfs3Client.ConnectAsync(Nfs);

    public async Task<Nfs3Client[]> ConnectManyAsync(int n)
    {
        var clients = new Nfs3Client[n];
        for (int i = 0; i < n; i++) clients[i] = await ConnectAsync().ConfigureAwait(false);
        return clients;
    }

    /// <summary>The handle of <paramref name="name"/> in the export root; throws if it is not there.</summary>
    public async Task<byte[]> LookupAsync(Nfs3Client c, string name)
    {
        var r = await c.LookupAsync(Root, name).ConfigureAwait(false);
        return r.Status == NfsStat3.NFS3_OK ? r.Handle! : throw new InvalidOperationException($"lookup {name}: {r.Status}");
    }

    public static async Task DisposeAllAsync(IEnumerable<Nfs3Client> clients)
    {
        foreach (var c in clients) await c.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// What every load on one existing file starts with: <paramref name="conns"/> connections to the target, and the
/// handle and size of --file (default "hot") in its export root. Disposing closes the connections.
/// </summary>
internal sealed class TargetFile : IAsyncDisposable
{
    private TargetFile(Target target, Nfs3Client[] clients, string name, byte[] handle, ulong size)
    {
        Target = target; Clients = clients; Name = name; Handle = handle; Size = size;
    }

    public Target Target { get; }
    public Nfs3Client[] Clients { get; }
    public string Name { get; }
    public byte[] Handle { get; }
    public ulong Size { get; }

    public static async Task<TargetFile> OpenAsync(Args a, int conns)
    {
        string name = a.Str("file", "hot");
        var target = await Target.OpenAsync(a).ConfigureAwait(false);
        var clients = await target.ConnectManyAsync(conns).ConfigureAwait(false);
        try
        {
            byte[] fh = await target.LookupAsync(clients[0], name).ConfigureAwait(false);
            var attr = await clients[0].GetAttrAsync(fh).ConfigureAwait(false);
            if (attr.Status != NfsStat3.NFS3_OK) throw new InvalidOperationException($"getattr {name}: {attr.Status}");
            return new TargetFile(target, clients, name, fh, attr.Attr!.Size);
        }
        catch
        {
            await Target.DisposeAllAsync(clients).ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(Target.DisposeAllAsync(Clients));
}
