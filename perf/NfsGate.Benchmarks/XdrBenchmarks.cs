using BenchmarkDotNet.Attributes;
using NfsGate.Metadata;
using NfsGate.Protocol;
using NfsGate.Rpc;

namespace NfsGate.Benchmarks;

/// <summary>The XDR codec on the hottest shapes: fattr3 out (every reply carries one), LOOKUP args in.</summary>
[MemoryDiagnoser]
public class XdrBenchmarks
{
    private readonly XdrWriter _w = new(4096);
    private byte[] _lookupArgs = [];
    private Attr _attr;

    [GlobalSetup]
    public void Setup()
    {
        _attr = new Attr { Inode = 42, Generation = 1, Type = FileType.Regular, Mode = 0x1A4, Nlink = 1, Size = 1 << 20, Mtime = Timespec.Now(), Ctime = Timespec.Now(), Atime = Timespec.Now() };
        using var w = new XdrWriter();
        w.WriteOpaque(new byte[FileHandleCodec.Size]);
        w.WriteString("some-file-name.txt");
        _lookupArgs = w.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int EncodeFattr3()
    {
        _w.Truncate(0);
        Nfs3Xdr.WritePostOpAttr(_w, _attr, 7);
        return _w.Length;
    }

    [Benchmark]
    public int DecodeLookupArgs()
    {
        var r = new XdrReader(_lookupArgs);
        var fh = Nfs3Xdr.ReadHandle(ref r);
        Nfs3Xdr.ReadFileName(ref r, out string name);
        return fh.Length + name.Length;
    }
}
