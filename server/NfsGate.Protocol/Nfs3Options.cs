using NfsGate.Metadata;

namespace NfsGate.Protocol;

/// <summary>Limits the NFSv3 program announces (FSINFO) and enforces, and the capacity FSSTAT reports.</summary>
public sealed class Nfs3Options
{
    /// <summary>1 MiB: the largest READ/WRITE the Linux client issues (its rsize/wsize cap), so one RPC per MiB.</summary>
    public uint MaxRead { get; init; } = 1 << 20;
    public uint MaxWrite { get; init; } = 1 << 20;
    public uint PrefRead { get; init; } = 1 << 20;
    public uint PrefWrite { get; init; } = 1 << 20;
    /// <summary>4 KiB: the page size; clients align I/O to it.</summary>
    public uint Multiple { get; init; } = 4096;
    /// <summary>64 KiB READDIR replies: a few hundred entries per round trip without large buffers.</summary>
    public uint DirPref { get; init; } = 64 << 10;
    public ulong MaxFileSize { get; init; } = Layout.MaxFileSize;
    /// <summary>Object storage has no real capacity; FSSTAT reports this (1 PiB) so df shows something sensible.</summary>
    public ulong TotalBytes { get; init; } = 1UL << 50;
    /// <summary>
    /// Where the bytes really go, when that has a size: the local-directory object store reports its file
    /// system's total and available bytes here, so df on a client tells the truth. Null (S3) = <see cref="TotalBytes"/>.
    /// </summary>
    public Func<(ulong Total, ulong Available)>? Capacity { get; init; }
    /// <summary>Inodes FSSTAT reports as total (2^40: never the limit in practice).</summary>
    public ulong TotalFiles { get; init; } = 1UL << 40;
}
