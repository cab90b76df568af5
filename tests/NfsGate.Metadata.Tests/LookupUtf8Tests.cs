using System.Text;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests;

/// <summary>
/// The allocation-free LOOKUP (name as UTF-8 bytes, point reads) must answer exactly what the string form answers,
/// on every engine, for every kind of name and failure.
/// </summary>
public class LookupUtf8Tests
{
    public static TheoryData<string> EngineNames => new() { "memory", "rocksdb" };

    private static IKvStore Make(string engine) => engine == "memory" ? Engines.Memory() : Engines.Rocks();

    [Theory]
    [MemberData(nameof(EngineNames))]
    public void Answers_like_the_string_lookup(string engine)
    {
        using var fs = new Fs(Make(engine));
        ulong sub = fs.Dir("sub");
        fs.File("f");
        fs.File("é-ü", sub);
        ulong locked = fs.Dir("locked", mode: 0x1C0); // 0700, root's
        fs.File("inside", locked);
        var user = new Credential(1000, 1000, []);
        string[] names = ["f", "sub", "missing", ".", "..", "é-ü", "inside", new string('x', 255), new string('x', 256), new string('é', 128)];
        foreach (var cred in new[] { Fs.Root, user })
        foreach (ulong dir in new[] { Fs.RootIno, sub, locked, fs.V.Lookup(Fs.Root, Fs.RootIno, "f").Obj!.Value.Inode, 999_999UL })
        foreach (var name in names)
        {
            var want = fs.V.Lookup(cred, dir, name);
            var got = fs.V.LookupUtf8(cred, dir, Encoding.UTF8.GetBytes(name));
            string what = $"{cred.Uid} {dir} '{name}'";
            Assert.True(want.Status == got.Status, what + $": {want.Status} vs {got.Status}");
            Assert.True(want.Obj?.Inode == got.Obj?.Inode, what);
            Assert.True(want.Dir?.Inode == got.Dir?.Inode, what);
            Assert.True(Nullable.Equals(want.Obj, got.Obj), what);
        }
    }

    [Fact]
    public void Span_keys_equal_the_array_keys()
    {
        Span<byte> k = stackalloc byte[Keys.InodePrefixLength + 1 + 8];
        int n = Keys.Attr(0x102, 0x304, k);
        Assert.Equal(Keys.Attr(0x102, 0x304), k[..n].ToArray());
        n = Keys.Dentry(7, 9, "ab"u8, k);
        Assert.Equal(Keys.Dentry(7, 9, "ab"), k[..n].ToArray());
    }

    [Theory]
    [MemberData(nameof(EngineNames))]
    public void GetAttr_sees_each_commit_at_once(string engine)
    {
        using var fs = new Fs(Make(engine));
        ulong f = fs.File("f");
        for (uint m = 0x100; m < 0x110; m++)
        {
            Assert.Equal(FsStatus.Ok, fs.V.SetAttr(Fs.Root, f, new SetAttrRequest { Mode = m }, null).Status);
            Assert.Equal(FsStatus.Ok, fs.V.GetAttr(f, out var a));
            Assert.Equal(m, a.Mode);
        }
        Assert.Equal(FsStatus.Ok, fs.V.Remove(Fs.Root, Fs.RootIno, "f").Status);
        Assert.Equal(FsStatus.NoEnt, fs.V.GetAttr(f, out _));
    }
}
