using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using NfsGate.Protocol;

namespace NfsGate.Benchmarks;

/// <summary>
/// The file-handle MAC: every NFS call decodes (verifies) at least one handle and LOOKUP/CREATE encode one, so its
/// cost is paid on every GETATTR/LOOKUP. Compare with the whole dispatch in <see cref="DispatchBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class HandleBenchmarks
{
    private readonly FileHandleCodec _codec = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private readonly byte[] _buf = new byte[FileHandleCodec.Size];
    private readonly byte[] _digest = new byte[32];
    private byte[] _handle = [];

    private byte[][] _many = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _handle = _codec.Encode(new FileHandle(3, 123456, 1));
        // 4x the MAC cache's slots, issued by another codec: decoding them round-robin mostly misses the cache.
        var issuer = new FileHandleCodec(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        _many = Enumerable.Range(0, 1 << 16).Select(i => issuer.Encode(new FileHandle(3, (ulong)i, 1))).ToArray();
    }

    [Benchmark]
    public int Encode() => _codec.Encode(new FileHandle(3, 123456, 1), _buf);

    /// <summary>A handle decoded over and over (a hot file): after the first call, a MAC cache hit.</summary>
    [Benchmark]
    public bool Decode() => _codec.TryDecode(_handle, out _);

    /// <summary>A working set larger than the MAC cache: mostly misses, so the HMAC itself (reused per-thread context).</summary>
    [Benchmark]
    public bool DecodeMiss() => _codec.TryDecode(_many[_next++ & (_many.Length - 1)], out _);

    /// <summary>Unkeyed SHA-256 of the same 17 bytes, in the same run: how much of the MAC's cost is the hash itself.</summary>
    [Benchmark(Baseline = true)]
    public int Sha256Only() => SHA256.HashData(_handle.AsSpan(0, FileHandleCodec.BodySize), _digest);
}
