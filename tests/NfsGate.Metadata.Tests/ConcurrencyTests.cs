using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests;

/// <summary>Operations from many threads at once: each is one transaction, so the result is some serial order.</summary>
public abstract class ConcurrencyTests
{
    protected abstract IKvStore NewKv();

    [Fact]
    public void Parallel_creates_renames_and_removes_leave_a_consistent_store()
    {
        using var fs = new Fs(NewKv());
        ulong a = fs.Dir("a");
        ulong b = fs.Dir("b");
        const int threads = 4, perThread = 150;
        var inodes = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < perThread; i++)
            {
                string name = $"t{t}-{i}";
                var r = fs.V.Create(Credential.Root, a, name, CreateMode.Guarded, default, 0);
                Assert.Equal(FsStatus.Ok, r.Status);
                inodes.Add(r.Obj!.Value.Inode);
                if (i % 3 == 0) Assert.Equal(FsStatus.Ok, fs.V.Rename(Credential.Root, a, name, b, name).Status);
                if (i % 5 == 0) fs.V.Remove(Credential.Root, i % 3 == 0 ? b : a, name);
                // Everyone fights over the same name too: exactly one mkdir of it per round can win.
                fs.V.Mkdir(Credential.Root, a, "shared" + (i % 7), default);
                fs.V.Rmdir(Credential.Root, a, "shared" + ((i + 3) % 7));
            }
        });
        Assert.Equal(threads * perThread, inodes.Distinct().Count());
        Assert.Empty(Fsck.Check(fs.Store.Kv, 1));
        var listed = fs.List(a).Concat(fs.List(b)).Where(n => n.StartsWith('t')).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(threads * (perThread - perThread / 5), listed.Count);
    }
}

public sealed class MemoryConcurrencyTests : ConcurrencyTests
{
    protected override IKvStore NewKv() => Engines.Memory();
}

public sealed class RocksConcurrencyTests : ConcurrencyTests
{
    protected override IKvStore NewKv() => Engines.Rocks();
}
