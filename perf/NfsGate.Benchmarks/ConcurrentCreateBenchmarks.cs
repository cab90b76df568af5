using BenchmarkDotNet.Attributes;
using NfsGate.Metadata;
using NfsGate.Metadata.RocksDb;

namespace NfsGate.Benchmarks;

/// <summary>
/// CREATE + REMOVE pairs on the RocksDB engine from 1 and from 32 concurrent callers (what 32 NFS CREATEs in flight
/// do). The time is per pair: if it does not fall with more callers, metadata writes are serialized somewhere.
/// </summary>
[MemoryDiagnoser]
public class ConcurrentCreateBenchmarks
{
    private const int PairsPerInvoke = 256;

    private string _dir = "";
    private MetadataStore _meta = null!;
    private IVolumeMeta _vol = null!;
    private ulong[] _dirs = [];
    private long _seq;

    [Params(1, 32)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchDir.Create();
        _meta = new MetadataStore(new RocksKvStore(_dir));
        _vol = _meta.OpenVolume(_meta.GetOrCreateVolumeId("bench"));
        // One directory per caller, as separate clients creating their own files would (and one shared: d0).
        _dirs = Enumerable.Range(0, 32).Select(i =>
            _vol.Mkdir(Credential.Root, INamespace.RootInode, "d" + i, new SetAttrRequest { Mode = 0x1ED }).Obj!.Value.Inode).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _meta.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = PairsPerInvoke)]
    public void CreateRemove()
    {
        int per = PairsPerInvoke / Callers;
        Parallel.For(0, Callers, new ParallelOptions { MaxDegreeOfParallelism = Callers }, c =>
        {
            ulong dir = _dirs[c];
            for (int i = 0; i < per; i++)
            {
                string name = "n" + Interlocked.Increment(ref _seq);
                _vol.Create(Credential.Root, dir, name, CreateMode.Unchecked, new SetAttrRequest { Mode = 0x1A4 }, 0);
                _vol.Remove(Credential.Root, dir, name);
            }
        });
    }
}
