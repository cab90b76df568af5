using System.Reflection;
using NfsGate.FileSystem;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>Behaviour that needs its own server: smaller transfer limits, a failing volume.</summary>
public class Nfs3LimitsTests
{
    [Fact]
    public async Task Read_and_write_are_capped_at_rtmax_and_wtmax()
    {
        await using var f = ServerFixture.Start(nfsOptions: new Nfs3Options { MaxRead = 4096, MaxWrite = 4096, PrefRead = 4096, PrefWrite = 4096 });
        await using var c = await f.ConnectAsync();
        var root = await c.MountHandleAsync("/");
        var fh = (await c.CreateAsync(root, "capped")).Handle!;
        var data = Enumerable.Range(0, 10000).Select(i => (byte)i).ToArray();

        var w = await c.WriteAsync(fh, 0, data);
        Assert.Equal(NfsStat3.NFS3_OK, w.Status);
        Assert.Equal(4096u, w.Count); // the server may write less; the client sends the rest
        Assert.Equal(4096UL, w.Wcc.After!.Size);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(fh, 4096, data.AsMemory(4096, 4096))).Status);

        var r = await c.ReadAsync(fh, 0, 10000);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.Equal(4096u, r.Count);
        Assert.False(r.Eof);
        Assert.Equal(data[..4096], r.Data);
        Assert.Equal(4096u, (await c.FsInfoAsync(root)).RtMax);
    }

    [Fact]
    public async Task An_empty_mount_path_is_the_root_as_libnfs_sends_it()
    {
        await using var f = ServerFixture.Start();
        await using var c = await f.ConnectAsync();
        var empty = await c.MountAsync("");
        Assert.Equal(MountStat3.MNT3_OK, empty.Status);
        Assert.Equal(await c.MountHandleAsync("/"), empty.Handle);
    }

    [Fact]
    public async Task Fsstat_reports_the_capacity_of_a_store_that_has_one()
    {
        await using var f = ServerFixture.Start(nfsOptions: new Nfs3Options { Capacity = () => (1000_000UL, 250_000UL) });
        await using var c = await f.ConnectAsync();
        var root = await c.MountHandleAsync("/");
        var st = await c.FsStatAsync(root);
        Assert.Equal(NfsStat3.NFS3_OK, st.Status);
        Assert.Equal((1000_000UL, 250_000UL, 250_000UL), (st.TBytes, st.FBytes, st.ABytes));
    }

    [Fact]
    public async Task A_failing_volume_gives_serverfault_with_the_resfail_body()
    {
        await using var f = ServerFixture.Start();
        var real = f.AddExport("real", "/real");
        var broken = FailingVolume.Wrap(real.Volume, nameof(IFsVolume.Mkdir));
        var e = f.AddExport(new Export(f.Meta.GetOrCreateVolumeId("broken"), "broken", "/broken", false, broken));
        await using var c = await f.ConnectAsync();
        var root = await c.MountHandleAsync(e.Path);
        var m = await c.MkdirAsync(root, "d");
        Assert.Equal(NfsStat3.NFS3ERR_SERVERFAULT, m.Status);
        Assert.Null(m.DirWcc.Before);
        Assert.Null(m.DirWcc.After);
        // The connection survives and other procedures still work.
        Assert.Equal(NfsStat3.NFS3_OK, (await c.CreateAsync(root, "file")).Status);
    }

    /// <summary>Forwards every call to a real volume except one method, which throws as a broken store would.</summary>
    public class FailingVolume : DispatchProxy
    {
        private IFsVolume _inner = null!;
        private string _fail = "";

        public static IFsVolume Wrap(IFsVolume inner, string failingMethod)
        {
            var p = Create<IFsVolume, FailingVolume>();
            var fv = (FailingVolume)(object)p;
            fv._inner = inner;
            fv._fail = failingMethod;
            return p;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == _fail) throw new IOException("injected failure");
            try
            {
                return method.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
