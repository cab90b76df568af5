using NfsGate.Data;
using NfsGate.Data.Cache;
using NfsGate.Data.Tests.ObjectStore;

namespace NfsGate.Data.Tests.Cache;

/// <summary>The cache over a local directory is still a full object store.</summary>
public sealed class CachingObjectStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nfsgate-cache-contract-").FullName;
    private int _n;

    protected override IObjectStore Create()
    {
        int n = _n++;
        return new CachingObjectStore(
            new LocalDirObjectStore(Path.Combine(_dir, $"store{n}")),
            new BlockCacheOptions { Path = Path.Combine(_dir, $"cache{n}"), SizeBytes = 64 << 20, FreeSpaceRatio = () => 0.5 });
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
