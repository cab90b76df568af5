using System.Buffers.Binary;
using System.Net;
using NfsGate.Metadata;
using NfsGate.Protocol;
using NfsGate.Rpc;

namespace NfsGate.TestKit;

/// <summary>
/// A typed NFSv3 / MOUNT v3 / portmapper client over <see cref="RawRpcClient"/> for tests: each method builds the
/// RFC 1813 arguments, sends them, and parses the reply into a record. Every parse insists the reply is consumed
/// exactly (no trailing bytes), so a wrong reply shape fails the test that caused it.
/// </summary>
public sealed class Nfs3Client : IAsyncDisposable
{
    public delegate T Parser<T>(ref XdrReader r);

    public Nfs3Client(RawRpcClient rpc, RpcClientCredential? credential = null)
    {
        Rpc = rpc;
        Credential = credential ?? RpcClientCredential.Sys(0, 0);
    }

    public static async Task<Nfs3Client> ConnectAsync(IPEndPoint server, RpcClientCredential? credential = null, CancellationToken ct = default) =>
        new(await RawRpcClient.ConnectAsync(server, ct: ct).ConfigureAwait(false), credential);

    public RawRpcClient Rpc { get; }

    /// <summary>The credential sent with every call (default AUTH_SYS root).</summary>
    public RpcClientCredential Credential { get; set; }

    public ValueTask DisposeAsync() => Rpc.DisposeAsync();

    // ---- plumbing ----

    /// <summary>Sends a call and returns the raw reply (any accept status).</summary>
    public async Task<RpcReplyMessage> CallRawAsync(uint prog, uint vers, uint proc, Action<XdrWriter> args, RpcClientCredential? credential = null)
    {
        byte[] a;
        using (var w = new XdrWriter())
        {
            args(w);
            a = w.WrittenSpan.ToArray();
        }
        return await Rpc.CallAsync(prog, vers, proc, a, credential ?? Credential).ConfigureAwait(false);
    }

    public async Task<T> CallAsync<T>(uint prog, uint vers, uint proc, Action<XdrWriter> args, Parser<T> parse)
    {
        var reply = await CallRawAsync(prog, vers, proc, args).ConfigureAwait(false);
        if (!reply.IsSuccess) throw new Nfs3ClientException($"call {prog}/{vers}/{proc}: {reply.ReplyStat} {reply.AcceptStat}");
        return ParseExact(reply.Results, parse);
    }

    public static T ParseExact<T>(byte[] results, Parser<T> parse)
    {
        var r = new XdrReader(results);
        var v = parse(ref r);
        if (r.Remaining != 0) throw new Nfs3ClientException($"{r.Remaining} trailing bytes after {typeof(T).Name}");
        return v;
    }

    private Task<T> Nfs<T>(Nfs3Proc proc, Action<XdrWriter> args, Parser<T> parse) =>
        CallAsync(Nfs3Const.PROGRAM, Nfs3Const.VERSION, (uint)proc, args, parse);

    private static NfsStat3 Status(ref XdrReader r) => (NfsStat3)r.ReadUInt32();

    public static void WriteSattr(XdrWriter w, in SetAttrRequest s)
    {
        w.WriteBool(s.Mode.HasValue); if (s.Mode is { } m) w.WriteUInt32(m);
        w.WriteBool(s.Uid.HasValue); if (s.Uid is { } u) w.WriteUInt32(u);
        w.WriteBool(s.Gid.HasValue); if (s.Gid is { } g) w.WriteUInt32(g);
        w.WriteBool(s.Size.HasValue); if (s.Size is { } z) w.WriteUInt64(z);
        w.WriteUInt32((uint)s.AtimeHow);
        if (s.AtimeHow == TimeHow.ClientTime) { w.WriteUInt32((uint)s.Atime.Seconds); w.WriteUInt32(s.Atime.Nanos); }
        w.WriteUInt32((uint)s.MtimeHow);
        if (s.MtimeHow == TimeHow.ClientTime) { w.WriteUInt32((uint)s.Mtime.Seconds); w.WriteUInt32(s.Mtime.Nanos); }
    }

    private static void DirOp(XdrWriter w, byte[] dir, string name)
    {
        w.WriteOpaque(dir);
        w.WriteString(name);
    }

    private static byte[]? ReadPostOpFh(ref XdrReader r) => r.ReadBool() ? r.ReadOpaque(Nfs3Const.NFS3_FHSIZE).ToArray() : null;

    // ---- NFSv3 ----

    public async Task<bool> NullAsync()
    {
        var reply = await CallRawAsync(Nfs3Const.PROGRAM, Nfs3Const.VERSION, 0, _ => { }).ConfigureAwait(false);
        return reply.IsSuccess && reply.Results.Length == 0;
    }

    public Task<AttrResult> GetAttrAsync(byte[] fh) => Nfs(Nfs3Proc.GETATTR, w => w.WriteOpaque(fh), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        return new AttrResult(st, st == NfsStat3.NFS3_OK ? Fattr3.Read(ref r) : null);
    });

    public Task<WccResult> SetAttrAsync(byte[] fh, SetAttrRequest attrs, NfsTime? guard = null) => Nfs(Nfs3Proc.SETATTR, w =>
    {
        w.WriteOpaque(fh);
        WriteSattr(w, attrs);
        w.WriteBool(guard.HasValue);
        if (guard is { } g) { w.WriteUInt32(g.Seconds); w.WriteUInt32(g.Nanos); }
    }, (ref XdrReader r) => new WccResult(Status(ref r), Wcc3.Read(ref r)));

    public Task<LookupResult> LookupAsync(byte[] dir, string name) => Nfs(Nfs3Proc.LOOKUP, w => DirOp(w, dir, name), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        if (st != NfsStat3.NFS3_OK) return new LookupResult(st, null, null, Fattr3.ReadPostOp(ref r));
        var fh = r.ReadOpaque(Nfs3Const.NFS3_FHSIZE).ToArray();
        return new LookupResult(st, fh, Fattr3.ReadPostOp(ref r), Fattr3.ReadPostOp(ref r));
    });

    public Task<AccessResult> AccessAsync(byte[] fh, uint access) => Nfs(Nfs3Proc.ACCESS, w => { w.WriteOpaque(fh); w.WriteUInt32(access); }, (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        return new AccessResult(st, a, st == NfsStat3.NFS3_OK ? r.ReadUInt32() : 0);
    });

    public Task<ReadLinkResult> ReadLinkAsync(byte[] fh) => Nfs(Nfs3Proc.READLINK, w => w.WriteOpaque(fh), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        return new ReadLinkResult(st, a, st == NfsStat3.NFS3_OK ? r.ReadString(8192) : null);
    });

    public Task<ReadResult3> ReadAsync(byte[] fh, ulong offset, uint count) => Nfs(Nfs3Proc.READ, w => { w.WriteOpaque(fh); w.WriteUInt64(offset); w.WriteUInt32(count); }, (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        if (st != NfsStat3.NFS3_OK) return new ReadResult3(st, a, 0, false, []);
        uint n = r.ReadUInt32();
        bool eof = r.ReadBool();
        var data = r.ReadOpaque(64 << 20).ToArray();
        if (data.Length != n) throw new Nfs3ClientException($"READ count {n} but {data.Length} data bytes");
        return new ReadResult3(st, a, n, eof, data);
    });

    public Task<WriteResult3> WriteAsync(byte[] fh, ulong offset, ReadOnlyMemory<byte> data, StableHow3 stable = StableHow3.FILE_SYNC, uint? count = null) =>
        Nfs(Nfs3Proc.WRITE, w =>
        {
            w.WriteOpaque(fh);
            w.WriteUInt64(offset);
            w.WriteUInt32(count ?? (uint)data.Length);
            w.WriteUInt32((uint)stable);
            w.WriteOpaque(data.Span);
        }, (ref XdrReader r) =>
        {
            var st = Status(ref r);
            var wcc = Wcc3.Read(ref r);
            if (st != NfsStat3.NFS3_OK) return new WriteResult3(st, wcc, 0, 0, 0);
            return new WriteResult3(st, wcc, r.ReadUInt32(), (StableHow3)r.ReadUInt32(), BinaryPrimitives.ReadUInt64BigEndian(r.ReadFixedOpaque(8)));
        });

    private static CreateResult ReadCreated(ref XdrReader r)
    {
        var st = Status(ref r);
        if (st != NfsStat3.NFS3_OK) return new CreateResult(st, null, null, Wcc3.Read(ref r));
        var fh = ReadPostOpFh(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        return new CreateResult(st, fh, a, Wcc3.Read(ref r));
    }

    public Task<CreateResult> CreateAsync(byte[] dir, string name, CreateMode3 mode = CreateMode3.UNCHECKED, SetAttrRequest attrs = default, ulong verifier = 0) =>
        Nfs(Nfs3Proc.CREATE, w =>
        {
            DirOp(w, dir, name);
            w.WriteUInt32((uint)mode);
            if (mode == CreateMode3.EXCLUSIVE) w.WriteUInt64(verifier);
            else WriteSattr(w, attrs);
        }, ReadCreated);

    public Task<CreateResult> MkdirAsync(byte[] dir, string name, SetAttrRequest attrs = default) =>
        Nfs(Nfs3Proc.MKDIR, w => { DirOp(w, dir, name); WriteSattr(w, attrs); }, ReadCreated);

    public Task<CreateResult> SymlinkAsync(byte[] dir, string name, string target, SetAttrRequest attrs = default) =>
        Nfs(Nfs3Proc.SYMLINK, w => { DirOp(w, dir, name); WriteSattr(w, attrs); w.WriteString(target); }, ReadCreated);

    public Task<CreateResult> MknodAsync(byte[] dir, string name, Ftype3 type, uint major = 0, uint minor = 0, SetAttrRequest attrs = default) =>
        Nfs(Nfs3Proc.MKNOD, w =>
        {
            DirOp(w, dir, name);
            w.WriteUInt32((uint)type);
            if (type is Ftype3.NF3CHR or Ftype3.NF3BLK) { WriteSattr(w, attrs); w.WriteUInt32(major); w.WriteUInt32(minor); }
            else if (type is Ftype3.NF3SOCK or Ftype3.NF3FIFO) WriteSattr(w, attrs);
        }, ReadCreated);

    public Task<WccResult> RemoveAsync(byte[] dir, string name) =>
        Nfs(Nfs3Proc.REMOVE, w => DirOp(w, dir, name), (ref XdrReader r) => new WccResult(Status(ref r), Wcc3.Read(ref r)));

    public Task<WccResult> RmdirAsync(byte[] dir, string name) =>
        Nfs(Nfs3Proc.RMDIR, w => DirOp(w, dir, name), (ref XdrReader r) => new WccResult(Status(ref r), Wcc3.Read(ref r)));

    public Task<RenameResult> RenameAsync(byte[] fromDir, string fromName, byte[] toDir, string toName) =>
        Nfs(Nfs3Proc.RENAME, w => { DirOp(w, fromDir, fromName); DirOp(w, toDir, toName); },
            (ref XdrReader r) => new RenameResult(Status(ref r), Wcc3.Read(ref r), Wcc3.Read(ref r)));

    public Task<LinkResult> LinkAsync(byte[] file, byte[] dir, string name) =>
        Nfs(Nfs3Proc.LINK, w => { w.WriteOpaque(file); DirOp(w, dir, name); },
            (ref XdrReader r) => new LinkResult(Status(ref r), Fattr3.ReadPostOp(ref r), Wcc3.Read(ref r)));

    public Task<ReadDirResult3> ReadDirAsync(byte[] dir, ulong cookie = 0, ulong verifier = 0, uint count = 8192) =>
        Nfs(Nfs3Proc.READDIR, w => { w.WriteOpaque(dir); w.WriteUInt64(cookie); w.WriteUInt64(verifier); w.WriteUInt32(count); }, (ref XdrReader r) =>
        {
            var st = Status(ref r);
            var a = Fattr3.ReadPostOp(ref r);
            if (st != NfsStat3.NFS3_OK) return new ReadDirResult3(st, a, 0, [], false);
            ulong verf = r.ReadUInt64();
            var list = new List<DirEntry3>();
            while (r.ReadBool()) list.Add(new DirEntry3(r.ReadUInt64(), r.ReadString(4096), r.ReadUInt64()));
            return new ReadDirResult3(st, a, verf, list, r.ReadBool());
        });

    public Task<ReadDirResult3> ReadDirPlusAsync(byte[] dir, ulong cookie = 0, ulong verifier = 0, uint dircount = 8192, uint maxcount = 32768) =>
        Nfs(Nfs3Proc.READDIRPLUS, w =>
        {
            w.WriteOpaque(dir); w.WriteUInt64(cookie); w.WriteUInt64(verifier); w.WriteUInt32(dircount); w.WriteUInt32(maxcount);
        }, (ref XdrReader r) =>
        {
            var st = Status(ref r);
            var a = Fattr3.ReadPostOp(ref r);
            if (st != NfsStat3.NFS3_OK) return new ReadDirResult3(st, a, 0, [], false);
            ulong verf = r.ReadUInt64();
            var list = new List<DirEntry3>();
            while (r.ReadBool())
            {
                ulong id = r.ReadUInt64();
                string name = r.ReadString(4096);
                ulong cookie = r.ReadUInt64();
                var attr = Fattr3.ReadPostOp(ref r);
                list.Add(new DirEntry3(id, name, cookie, attr, ReadPostOpFh(ref r)));
            }
            return new ReadDirResult3(st, a, verf, list, r.ReadBool());
        });

    public Task<FsStatResult> FsStatAsync(byte[] fh) => Nfs(Nfs3Proc.FSSTAT, w => w.WriteOpaque(fh), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        if (st != NfsStat3.NFS3_OK) return new FsStatResult(st, a, 0, 0, 0, 0, 0, 0, 0);
        return new FsStatResult(st, a, r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt32());
    });

    public Task<FsInfoResult> FsInfoAsync(byte[] fh) => Nfs(Nfs3Proc.FSINFO, w => w.WriteOpaque(fh), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        if (st != NfsStat3.NFS3_OK) return new FsInfoResult(st, a, 0, 0, 0, 0, 0, 0, 0, 0, default, 0);
        return new FsInfoResult(st, a, r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(),
            r.ReadUInt64(), Fattr3.ReadTime(ref r), r.ReadUInt32());
    });

    public Task<PathConfResult> PathConfAsync(byte[] fh) => Nfs(Nfs3Proc.PATHCONF, w => w.WriteOpaque(fh), (ref XdrReader r) =>
    {
        var st = Status(ref r);
        var a = Fattr3.ReadPostOp(ref r);
        if (st != NfsStat3.NFS3_OK) return new PathConfResult(st, a, 0, 0, false, false, false, false);
        return new PathConfResult(st, a, r.ReadUInt32(), r.ReadUInt32(), r.ReadBool(), r.ReadBool(), r.ReadBool(), r.ReadBool());
    });

    public Task<CommitResult> CommitAsync(byte[] fh, ulong offset = 0, uint count = 0) =>
        Nfs(Nfs3Proc.COMMIT, w => { w.WriteOpaque(fh); w.WriteUInt64(offset); w.WriteUInt32(count); }, (ref XdrReader r) =>
        {
            var st = Status(ref r);
            var wcc = Wcc3.Read(ref r);
            return new CommitResult(st, wcc, st == NfsStat3.NFS3_OK ? r.ReadUInt64() : 0);
        });

    // ---- MOUNT v3 ----

    private Task<T> Mnt<T>(uint proc, Action<XdrWriter> args, Parser<T> parse) => CallAsync(MountProgram.PROGRAM, MountProgram.VERSION, proc, args, parse);

    public Task<MountResult> MountAsync(string path) => Mnt(1, w => w.WriteString(path), (ref XdrReader r) =>
    {
        var st = (MountStat3)r.ReadUInt32();
        if (st != MountStat3.MNT3_OK) return new MountResult(st, null, []);
        var fh = r.ReadOpaque(Nfs3Const.NFS3_FHSIZE).ToArray();
        uint n = r.ReadUInt32();
        if (n > 16) throw new Nfs3ClientException($"{n} auth flavors");
        var fl = new uint[n];
        for (int i = 0; i < n; i++) fl[i] = r.ReadUInt32();
        return new MountResult(st, fh, fl);
    });

    /// <summary>MNT that must succeed: the root handle of <paramref name="path"/>.</summary>
    public async Task<byte[]> MountHandleAsync(string path)
    {
        var m = await MountAsync(path).ConfigureAwait(false);
        return m.Status == MountStat3.MNT3_OK ? m.Handle! : throw new Nfs3ClientException($"mount {path}: {m.Status}");
    }

    public Task<IReadOnlyList<(string Host, string Dir)>> MountDumpAsync() => Mnt(2, _ => { }, (ref XdrReader r) =>
    {
        var list = new List<(string, string)>();
        while (r.ReadBool()) list.Add((r.ReadString(MountProgram.MNTNAMLEN), r.ReadString(MountProgram.MNTPATHLEN)));
        return (IReadOnlyList<(string, string)>)list;
    });

    public Task<bool> UnmountAsync(string path) => Mnt(3, w => w.WriteString(path), (ref XdrReader r) => true);

    public Task<bool> UnmountAllAsync() => Mnt(4, _ => { }, (ref XdrReader r) => true);

    public Task<IReadOnlyList<ExportEntry>> ExportListAsync() => Mnt(5, _ => { }, (ref XdrReader r) =>
    {
        var list = new List<ExportEntry>();
        while (r.ReadBool())
        {
            string dir = r.ReadString(MountProgram.MNTPATHLEN);
            var groups = new List<string>();
            while (r.ReadBool()) groups.Add(r.ReadString(MountProgram.MNTNAMLEN));
            list.Add(new ExportEntry(dir, groups));
        }
        return (IReadOnlyList<ExportEntry>)list;
    });

    // ---- portmapper v2 ----

    public Task<uint> GetPortAsync(uint prog, uint vers, uint prot = PortmapProgram.IPPROTO_TCP) =>
        CallAsync(PortmapProgram.PROGRAM, PortmapProgram.VERSION, 3, w => { w.WriteUInt32(prog); w.WriteUInt32(vers); w.WriteUInt32(prot); w.WriteUInt32(0); },
            (ref XdrReader r) => r.ReadUInt32());

    public Task<IReadOnlyList<PortMapping>> PortmapDumpAsync() =>
        CallAsync(PortmapProgram.PROGRAM, PortmapProgram.VERSION, 4, _ => { }, (ref XdrReader r) =>
        {
            var list = new List<PortMapping>();
            while (r.ReadBool()) list.Add(new PortMapping(r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32()));
            return (IReadOnlyList<PortMapping>)list;
        });

    /// <summary>A name as raw bytes of a given length (for NAMETOOLONG tests): 'a' repeated.</summary>
    public static string LongName(int bytes) => new string('a', bytes);

}
