using BenchmarkDotNet.Attributes;
using NfsGate.Metadata;
using NfsGate.Metadata.RocksDb;

namespace NfsGate.Benchmarks;

/// <summary>Metadata operations on the RocksDB engine: the reads every NFS call makes, and a create + remove pair.</summary>
[MemoryDiagnoser]
public class MetadataBenchmarks
{
    private string _dir = "";
    private MetadataStore _meta = null!;
    private IVolumeMeta _vol = null!;
    private ulong _file;
    private long _seq;

    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchDir.Create();
        _meta = new MetadataStore(new RocksKvStore(_dir));
        _vol = _meta.OpenVolume(_meta.GetOrCreateVolumeId("bench"));
        for (int i = 0; i < 1000; i++)
            _vol.Create(Credential.Root, INamespace.RootInode, $"f{i:D4}", CreateMode.Unchecked, new SetAttrRequest { Mode = 0x1A4 }, 0);
        var r = _vol.Lookup(Credential.Root, INamespace.RootInode, "f0500");
        _file = r.Obj!.Value.Inode;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _meta.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public FsStatus GetAttr() => _vol.GetAttr(_file, out _);

    /// <summary>The string overload (tools, tests): the name's UTF-8 on the stack, then an <c>OpResult</c>.</summary>
    [Benchmark]
    public FsStatus Lookup() => _vol.Lookup(Credential.Root, INamespace.RootInode, "f0500").Status;

    /// <summary>What NFS LOOKUP calls: the name's bytes as they came off the wire, a struct result.</summary>
    [Benchmark]
    public FsStatus LookupUtf8() => _vol.LookupUtf8(Credential.Root, INamespace.RootInode, "f0500"u8).Status;

    [Benchmark]
    public FsStatus CreateRemove()
    {
        string name = "n" + Interlocked.Increment(ref _seq);
        _vol.Create(Credential.Root, INamespace.RootInode, name, CreateMode.Unchecked, new SetAttrRequest { Mode = 0x1A4 }, 0);
        return _vol.Remove(Credential.Root, INamespace.RootInode, name).Status;
    }
}
