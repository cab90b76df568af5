using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests;

/// <summary>
/// Model-based random test (JuiceFS random_test.go style): the same seeded random sequence of namespace operations
/// runs on the real store and on <see cref="ModelFs"/>, a plain in-memory tree; every status, every returned inode and,
/// periodically, the whole tree (types, link counts, sizes, parents, listings, usage) must agree.
/// </summary>
public abstract class ModelTests
{
    protected abstract IKvStore NewKv();
    protected virtual int Operations => 2000;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Random_operations_match_the_model(int seed, bool crashes)
    {
        var faulty = new FaultyKv(NewKv(), seed) { Enabled = false };
        using var fs = new Fs(faulty);
        faulty.Enabled = crashes;
        var model = new ModelFs();
        var rnd = new Random(seed);
        string[] names = ["a", "b", "c", "d", "e", "f", ".", "..", "", "x/y"];
        for (int step = 0; step < Operations; step++)
        {
            ulong PickIno() => rnd.Next(20) == 0 ? (ulong)rnd.Next(1, 10_000) : model.AllEver[rnd.Next(model.AllEver.Count)];
            ulong PickDir() => rnd.Next(10) == 0 ? PickIno() : model.LiveDirs()[rnd.Next(model.LiveDirs().Count)];
            string PickName() => rnd.Next(15) == 0 ? names[6 + rnd.Next(4)] : names[rnd.Next(6)];
            int op = rnd.Next(10);
            string what = "";
            FsStatus expected = FsStatus.Ok, actual = FsStatus.Ok;
            try
            {
                switch (op)
                {
                    case 0:
                    case 1:
                    {
                        ulong dir = PickDir(); string name = PickName();
                        var mode = rnd.Next(2) == 0 ? CreateMode.Guarded : CreateMode.Unchecked;
                        ulong? size = rnd.Next(3) == 0 ? (ulong)rnd.Next(0, 5000) : null;
                        what = $"create {dir}/{name} {mode} size={size}";
                        var r = fs.V.Create(Credential.Root, dir, name, mode, new SetAttrRequest { Size = size }, 0);
                        expected = model.Create(dir, name, mode, size, out var mIno);
                        actual = r.Status;
                        if (expected == FsStatus.Ok && actual == FsStatus.Ok) Assert.Equal(mIno, r.Obj!.Value.Inode);
                        break;
                    }
                    case 2:
                    {
                        ulong dir = PickDir(); string name = PickName();
                        what = $"mkdir {dir}/{name}";
                        var r = fs.V.Mkdir(Credential.Root, dir, name, default);
                        expected = model.Mkdir(dir, name, out var mIno);
                        actual = r.Status;
                        if (expected == FsStatus.Ok && actual == FsStatus.Ok) Assert.Equal(mIno, r.Obj!.Value.Inode);
                        break;
                    }
                    case 3:
                    {
                        ulong dir = PickDir(); string name = PickName();
                        what = $"remove {dir}/{name}";
                        var r = fs.V.Remove(Credential.Root, dir, name);
                        expected = model.Remove(dir, name, rmdir: false, out var freed);
                        actual = r.Status;
                        if (expected == actual) Assert.Equal(freed, r.FreedInode);
                        break;
                    }
                    case 4:
                    {
                        ulong dir = PickDir(); string name = PickName();
                        what = $"rmdir {dir}/{name}";
                        var r = fs.V.Rmdir(Credential.Root, dir, name);
                        expected = model.Remove(dir, name, rmdir: true, out var freed);
                        actual = r.Status;
                        if (expected == actual) Assert.Equal(freed, r.FreedInode);
                        break;
                    }
                    case 5:
                    case 6:
                    {
                        ulong fd = PickDir(); string fn = PickName(); ulong td = PickDir(); string tn = PickName();
                        what = $"rename {fd}/{fn} -> {td}/{tn}";
                        var r = fs.V.Rename(Credential.Root, fd, fn, td, tn);
                        expected = model.Rename(fd, fn, td, tn, out var freed);
                        actual = r.Status;
                        if (expected == actual) Assert.Equal(freed, r.FreedInode);
                        break;
                    }
                    case 7:
                    {
                        ulong ino = PickIno(); ulong dir = PickDir(); string name = PickName();
                        what = $"link {ino} -> {dir}/{name}";
                        actual = fs.V.Link(Credential.Root, ino, dir, name).Status;
                        expected = model.Link(ino, dir, name);
                        break;
                    }
                    case 8:
                    {
                        ulong ino = PickIno(); ulong size = (ulong)rnd.Next(0, 3) * 1000 + (ulong)rnd.Next(0, 100);
                        what = $"truncate {ino} {size}";
                        actual = fs.V.SetAttr(Credential.Root, ino, new SetAttrRequest { Size = size }, null).Status;
                        expected = model.Truncate(ino, size);
                        break;
                    }
                    default:
                    {
                        ulong dir = PickDir(); string name = PickName();
                        what = $"lookup {dir}/{name}";
                        var r = fs.V.Lookup(Credential.Root, dir, name);
                        expected = model.Lookup(dir, name, out var mIno);
                        actual = r.Status;
                        if (expected == FsStatus.Ok && actual == FsStatus.Ok) Assert.Equal(mIno, r.Obj!.Value.Inode);
                        break;
                    }
                }
            }
            catch (FaultyKv.CrashException)
            {
                continue; // the store call crashed before the model ran: neither changed
            }
            Assert.True(expected == actual, $"seed {seed} step {step}: {what}: model {expected}, store {actual}");
            if (step % 250 == 249) CompareTrees(fs, model, $"seed {seed} step {step}");
        }
        CompareTrees(fs, model, $"seed {seed} end");
        if (crashes) Assert.True(faulty.Injected > 20, $"only {faulty.Injected} crashes injected");
    }

    private static void CompareTrees(Fs fs, ModelFs model, string where)
    {
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
        foreach (var ino in model.AllEver)
        {
            if (!model.Nodes.TryGetValue(ino, out var n))
            {
                Assert.True(fs.V.GetAttr(ino, out _) == FsStatus.NoEnt, $"{where}: freed inode {ino} still exists");
                continue;
            }
            Assert.True(fs.V.GetAttr(ino, out var a) == FsStatus.Ok, $"{where}: inode {ino} missing");
            Assert.Equal((n.Type, n.Nlink, n.Size), (a.Type, a.Nlink, a.Size));
            if (n.Type != FileType.Directory) continue;
            Assert.Equal(n.Parent, a.Parent);
            var listed = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
            ulong cookie = 0, verf = 0;
            while (true)
            {
                var r = fs.V.ReadDir(Credential.Root, ino, cookie, verf, 4, withAttrs: false);
                Assert.Equal(FsStatus.Ok, r.Status);
                foreach (var e in r.Entries) { Assert.True(listed.TryAdd(e.Name, e.Inode), $"{where}: {e.Name} listed twice"); cookie = e.Cookie; }
                verf = r.CookieVerifier;
                if (r.Eof) break;
            }
            var want = new SortedDictionary<string, ulong>(n.Children, StringComparer.Ordinal) { ["."] = ino, [".."] = n.Parent };
            Assert.Equal(want, listed);
        }
        ulong bytes = 0;
        foreach (var n in model.Nodes.Values) if (n.Type == FileType.Regular) bytes += n.Size;
        Assert.Equal(new VolumeUsage(bytes, (ulong)model.Nodes.Count), fs.V.Usage());
    }
}

public sealed class MemoryModelTests : ModelTests
{
    protected override IKvStore NewKv() => Engines.Memory();
}

public sealed class RocksModelTests : ModelTests
{
    protected override IKvStore NewKv() => Engines.Rocks();
}

/// <summary>
/// The reference: a dictionary tree with the documented semantics, checks in the same order as the store
/// (names, existence, types, loops, emptiness). Root credential only: permissions have their own tests.
/// </summary>
public sealed class ModelFs
{
    public sealed class Node
    {
        public FileType Type;
        public uint Nlink;
        public ulong Size;
        public ulong Parent;
        public readonly Dictionary<string, ulong> Children = new(StringComparer.Ordinal);
    }

    public readonly Dictionary<ulong, Node> Nodes = new() { [1] = new Node { Type = FileType.Directory, Nlink = 2, Parent = 1 } };
    public readonly List<ulong> AllEver = [1];
    private ulong _next = 1;
    private List<ulong>? _dirs;

    public List<ulong> LiveDirs() => _dirs ??= Nodes.Where(kv => kv.Value.Type == FileType.Directory).Select(kv => kv.Key).Order().ToList();

    private static FsStatus CheckNew(string name) =>
        name is "." or ".." ? FsStatus.Exist : name.Length == 0 || name.Contains('/') ? FsStatus.Inval : FsStatus.Ok;

    private static FsStatus CheckExisting(string name) =>
        name is "." or ".." || name.Length == 0 || name.Contains('/') ? FsStatus.Inval : FsStatus.Ok;

    private FsStatus Dir(ulong ino, out Node d)
    {
        if (!Nodes.TryGetValue(ino, out d!)) return FsStatus.Stale;
        return d.Type == FileType.Directory ? FsStatus.Ok : FsStatus.NotDir;
    }

    private ulong Add(Node parent, string name, Node n)
    {
        ulong ino = ++_next;
        Nodes[ino] = n;
        AllEver.Add(ino);
        parent.Children[name] = ino;
        _dirs = null;
        return ino;
    }

    public FsStatus Create(ulong dir, string name, CreateMode mode, ulong? size, out ulong ino)
    {
        ino = 0;
        var st = Dir(dir, out var d);
        if (st != FsStatus.Ok) return st;
        if ((st = CheckNew(name)) != FsStatus.Ok) return st;
        if (d.Children.TryGetValue(name, out var existing))
        {
            var e = Nodes[existing];
            if (mode == CreateMode.Guarded || e.Type != FileType.Regular) return FsStatus.Exist;
            if (size is ulong s) e.Size = s;
            ino = existing;
            return FsStatus.Ok;
        }
        ino = Add(d, name, new Node { Type = FileType.Regular, Nlink = 1, Size = size ?? 0 });
        return FsStatus.Ok;
    }

    public FsStatus Mkdir(ulong dir, string name, out ulong ino)
    {
        ino = 0;
        var st = Dir(dir, out var d);
        if (st != FsStatus.Ok) return st;
        if ((st = CheckNew(name)) != FsStatus.Ok) return st;
        if (d.Children.ContainsKey(name)) return FsStatus.Exist;
        ino = Add(d, name, new Node { Type = FileType.Directory, Nlink = 2, Parent = dir });
        d.Nlink++;
        return FsStatus.Ok;
    }

    public FsStatus Lookup(ulong dir, string name, out ulong ino)
    {
        ino = 0;
        var st = Dir(dir, out var d);
        if (st != FsStatus.Ok) return st;
        if (name == ".") { ino = dir; return FsStatus.Ok; }
        if (name == "..") { ino = d.Parent; return FsStatus.Ok; }
        return d.Children.TryGetValue(name, out ino) ? FsStatus.Ok : FsStatus.NoEnt;
    }

    private ulong DropLink(ulong ino)
    {
        var n = Nodes[ino];
        if (n.Type == FileType.Directory || n.Nlink <= 1)
        {
            Nodes.Remove(ino);
            _dirs = null;
            return ino;
        }
        n.Nlink--;
        return 0;
    }

    public FsStatus Remove(ulong dir, string name, bool rmdir, out ulong freed)
    {
        freed = 0;
        var st = Dir(dir, out var d);
        if (st != FsStatus.Ok) return st;
        if ((st = CheckExisting(name)) != FsStatus.Ok) return st;
        if (!d.Children.TryGetValue(name, out var ino)) return FsStatus.NoEnt;
        var n = Nodes[ino];
        if (rmdir && n.Type != FileType.Directory) return FsStatus.NotDir;
        if (!rmdir && n.Type == FileType.Directory) return FsStatus.IsDir;
        if (rmdir && n.Children.Count > 0) return FsStatus.NotEmpty;
        d.Children.Remove(name);
        freed = DropLink(ino);
        if (rmdir) d.Nlink--;
        return FsStatus.Ok;
    }

    public FsStatus Rename(ulong fromDir, string fromName, ulong toDir, string toName, out ulong freed)
    {
        freed = 0;
        if (!Nodes.TryGetValue(fromDir, out var fd) || !Nodes.TryGetValue(toDir, out var td)) return FsStatus.Stale;
        if (fd.Type != FileType.Directory || td.Type != FileType.Directory) return FsStatus.NotDir;
        var st = CheckExisting(fromName);
        if (st == FsStatus.Ok) st = CheckExisting(toName);
        if (st != FsStatus.Ok) return st;
        if (!fd.Children.TryGetValue(fromName, out var src)) return FsStatus.NoEnt;
        bool hasTarget = td.Children.TryGetValue(toName, out var dst);
        if (hasTarget && dst == src) return FsStatus.Ok;
        var s = Nodes[src];
        bool srcIsDir = s.Type == FileType.Directory;
        if (hasTarget)
        {
            bool dstIsDir = Nodes[dst].Type == FileType.Directory;
            if (!srcIsDir && dstIsDir) return FsStatus.IsDir;
            if (srcIsDir && !dstIsDir) return FsStatus.NotDir;
        }
        bool moveDir = srcIsDir && fromDir != toDir;
        if (moveDir)
        {
            for (ulong p = toDir; ; p = Nodes[p].Parent)
            {
                if (p == src) return FsStatus.Inval;
                if (p == 1) break;
            }
        }
        if (hasTarget && Nodes[dst].Type == FileType.Directory && Nodes[dst].Children.Count > 0) return FsStatus.NotEmpty;

        fd.Children.Remove(fromName);
        if (hasTarget)
        {
            td.Children.Remove(toName);
            bool wasDir = Nodes[dst].Type == FileType.Directory;
            freed = DropLink(dst);
            if (wasDir) td.Nlink--;
        }
        td.Children[toName] = src;
        if (moveDir)
        {
            s.Parent = toDir;
            fd.Nlink--;
            td.Nlink++;
        }
        return FsStatus.Ok;
    }

    public FsStatus Link(ulong ino, ulong dir, string name)
    {
        if (!Nodes.TryGetValue(ino, out var n)) return FsStatus.Stale;
        var st = Dir(dir, out var d);
        if (st != FsStatus.Ok) return st;
        if (n.Type == FileType.Directory) return FsStatus.Perm;
        if ((st = CheckNew(name)) != FsStatus.Ok) return st;
        if (d.Children.ContainsKey(name)) return FsStatus.Exist;
        d.Children[name] = ino;
        n.Nlink++;
        return FsStatus.Ok;
    }

    public FsStatus Truncate(ulong ino, ulong size)
    {
        if (!Nodes.TryGetValue(ino, out var n)) return FsStatus.Stale;
        if (n.Type == FileType.Directory) return FsStatus.IsDir;
        n.Size = size;
        return FsStatus.Ok;
    }
}
