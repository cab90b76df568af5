namespace NfsGate.Metadata.Tests;

/// <summary>The checker used by the model tests must itself catch broken stores.</summary>
public class FsckTests
{
    [Fact]
    public void Clean_store_has_no_problems()
    {
        using var fs = new Fs();
        ulong d = fs.Dir("d");
        ulong f = fs.File("f", d);
        fs.V.Link(Credential.Root, f, Fs.RootIno, "g");
        fs.V.BeginWrite(Credential.Root, f, 0, 10);
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
    }

    [Fact]
    public void Wrong_link_count_missing_index_and_usage_are_reported()
    {
        using var fs = new Fs();
        ulong f = fs.File("f");
        fs.Store.Kv.Transact(t =>
        {
            var a = Codec.DecodeAttr(f, t.Get(Keys.Attr(1, f))!);
            a.Nlink = 3;
            a.Size = 5;
            t.Set(Keys.Attr(1, f), Codec.EncodeAttr(a));
            t.Delete(Keys.ReadDirIndex(1, Fs.RootIno, 3));
            return 0;
        });
        var problems = Fsck.Check(fs.Store.Kv, 1);
        Assert.Contains(problems, p => p.Contains("nlink 3"));
        Assert.Contains(problems, p => p.Contains("readdir index"));
        Assert.Contains(problems, p => p.StartsWith("usage"));
    }
}
