using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

[Collection(ServerCollection.Name)]
public class MountTests(ProtocolServer server)
{
    [Fact]
    public async Task Null_answers()
    {
        await using var c = await server.Fixture.ConnectAsync();
        var r = await c.CallRawAsync(MountProgram.PROGRAM, 3, 0, _ => { });
        Assert.True(r.IsSuccess);
        Assert.Empty(r.Results);
    }

    [Fact]
    public async Task Mnt_returns_the_root_handle_and_flavors()
    {
        var e = server.Fixture.AddExport();
        await using var c = await server.Fixture.ConnectAsync();
        var m = await c.MountAsync(e.Path);
        Assert.Equal(MountStat3.MNT3_OK, m.Status);
        Assert.Equal([1u, 0u], m.Flavors);
        Assert.True(server.Fixture.Codec.TryDecode(m.Handle, out var h));
        Assert.Equal(new FileHandle(e.Id, 1, h.Generation), h);
        // The same path gives the same handle (handles are stable).
        Assert.Equal(m.Handle, (await c.MountAsync(e.Path + "/")).Handle);
    }

    [Fact]
    public async Task Mnt_of_a_subdirectory_gives_its_handle()
    {
        var e = server.Fixture.AddExport();
        await using var c = await server.Fixture.ConnectAsync();
        var root = await c.MountHandleAsync(e.Path);
        var a = await c.MkdirAsync(root, "a");
        var b = await c.MkdirAsync(a.Handle!, "b");
        Assert.Equal(b.Handle, await c.MountHandleAsync(e.Path + "/a/b"));

        var f = await c.CreateAsync(a.Handle!, "file");
        Assert.Equal(NfsStat3.NFS3_OK, f.Status);
        Assert.Equal(MountStat3.MNT3ERR_NOTDIR, (await c.MountAsync(e.Path + "/a/file")).Status);
        Assert.Equal(MountStat3.MNT3ERR_NOTDIR, (await c.MountAsync(e.Path + "/a/file/x")).Status);
        Assert.Equal(MountStat3.MNT3ERR_NOENT, (await c.MountAsync(e.Path + "/a/missing")).Status);
        Assert.Equal(MountStat3.MNT3ERR_INVAL, (await c.MountAsync(e.Path + "/a/../b")).Status);
    }

    [Fact]
    public async Task Mnt_errors()
    {
        await using var c = await server.Fixture.ConnectAsync();
        Assert.Equal(MountStat3.MNT3ERR_INVAL, (await c.MountAsync("relative")).Status);
        Assert.Equal(MountStat3.MNT3ERR_NAMETOOLONG, (await c.MountAsync("/" + new string('x', 1024))).Status);
        var e = server.Fixture.AddExport();
        Assert.Equal(MountStat3.MNT3ERR_NOENT, (await c.MountAsync(e.Path + "x")).Status);
    }

    [Fact]
    public async Task Mnt_from_a_client_outside_the_export_groups_is_acces()
    {
        var closed = server.Fixture.AddExport(groups: ["10.0.0.0/8", "@admins", "client.example"]);
        var open = server.Fixture.AddExport(groups: ["10.0.0.0/8", "127.0.0.0/8"]);
        var single = server.Fixture.AddExport(groups: ["127.0.0.1"]);
        await using var c = await server.Fixture.ConnectAsync();
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await c.MountAsync(closed.Path)).Status);
        Assert.Equal(MountStat3.MNT3_OK, (await c.MountAsync(open.Path)).Status);
        Assert.Equal(MountStat3.MNT3_OK, (await c.MountAsync(single.Path)).Status);
        Assert.DoesNotContain(("127.0.0.1", closed.Path), await c.MountDumpAsync());
    }

    [Fact]
    public async Task Mnt_walks_as_root_through_a_mode_0_directory()
    {
        var e = server.Fixture.AddExport();
        await using var c = await server.Fixture.ConnectAsync();
        var root = await c.MountHandleAsync(e.Path);
        var priv = await c.MkdirAsync(root, "private", new NfsGate.Metadata.SetAttrRequest { Mode = 0 });
        Assert.Equal(NfsStat3.NFS3_OK, priv.Status);
        await c.MkdirAsync(priv.Handle!, "inner");
        // The walk runs as root, which may search a mode-0 directory: the mount succeeds (knfsd behaves the same).
        Assert.Equal(MountStat3.MNT3_OK, (await c.MountAsync(e.Path + "/private/inner")).Status);
    }

    [Fact]
    public async Task Dump_umnt_and_umntall_track_mounts()
    {
        var e1 = server.Fixture.AddExport();
        var e2 = server.Fixture.AddExport();
        await using var c = await server.Fixture.ConnectAsync();
        await c.MountHandleAsync(e1.Path);
        await c.MountHandleAsync(e2.Path);
        var dump = await c.MountDumpAsync();
        Assert.Contains(("127.0.0.1", e1.Path), dump);
        Assert.Contains(("127.0.0.1", e2.Path), dump);

        await c.UnmountAsync(e1.Path);
        dump = await c.MountDumpAsync();
        Assert.DoesNotContain(("127.0.0.1", e1.Path), dump);
        Assert.Contains(("127.0.0.1", e2.Path), dump);

        await c.UnmountAllAsync();
        Assert.DoesNotContain(await c.MountDumpAsync(), m => m.Host == "127.0.0.1");
    }

    [Fact]
    public async Task Export_lists_paths_and_groups()
    {
        var e = server.Fixture.AddExport(groups: ["10.0.0.0/8", "@admins"]);
        await using var c = await server.Fixture.ConnectAsync();
        var list = await c.ExportListAsync();
        Assert.Contains(list, x => x.Dir == "/" && x.Groups.Count == 0);
        var mine = Assert.Single(list, x => x.Dir == e.Path);
        Assert.Equal(["10.0.0.0/8", "@admins"], mine.Groups);
    }

    [Fact]
    public async Task Mount_v1_is_a_version_mismatch()
    {
        await using var c = await server.Fixture.ConnectAsync();
        var r = await c.CallRawAsync(MountProgram.PROGRAM, 1, 0, _ => { });
        Assert.Equal(AcceptStat.PROG_MISMATCH, r.AcceptStat);
        Assert.Equal((3u, 3u), (r.MismatchLow, r.MismatchHigh));
    }
}

[Collection(ServerCollection.Name)]
public class PortmapTests(ProtocolServer server)
{
    [Fact]
    public async Task GetPort_answers_for_the_served_programs_only()
    {
        await using var c = await server.Fixture.ConnectAsync();
        uint port = (uint)server.Fixture.Port;
        Assert.Equal(port, await c.GetPortAsync(100003, 3));
        Assert.Equal(port, await c.GetPortAsync(100005, 1));
        Assert.Equal(port, await c.GetPortAsync(100005, 3));
        Assert.Equal(port, await c.GetPortAsync(100000, 2));
        Assert.Equal(0u, await c.GetPortAsync(100003, 3, PortmapProgram.IPPROTO_UDP));
        Assert.Equal(0u, await c.GetPortAsync(100003, 4));
        Assert.Equal(0u, await c.GetPortAsync(100021, 4));
    }

    [Fact]
    public async Task Dump_lists_every_mapping()
    {
        await using var c = await server.Fixture.ConnectAsync();
        uint port = (uint)server.Fixture.Port;
        var list = await c.PortmapDumpAsync();
        Assert.Equal(
            [
                new PortMapping(100000, 2, 6, port), new PortMapping(100003, 3, 6, port),
                new PortMapping(100005, 1, 6, port), new PortMapping(100005, 2, 6, port), new PortMapping(100005, 3, 6, port),
            ],
            list);
    }

    [Fact]
    public async Task Set_and_unset_are_refused_and_callit_is_unavailable()
    {
        await using var c = await server.Fixture.ConnectAsync();
        foreach (uint proc in new uint[] { 1, 2 })
        {
            var r = await c.CallRawAsync(PortmapProgram.PROGRAM, 2, proc, w => { w.WriteUInt32(200000); w.WriteUInt32(1); w.WriteUInt32(6); w.WriteUInt32(999); });
            Assert.Equal(new byte[4], r.Results);
        }
        var callit = await c.CallRawAsync(PortmapProgram.PROGRAM, 2, 5, w => { w.WriteUInt32(100003); w.WriteUInt32(3); w.WriteUInt32(0); w.WriteOpaque([]); });
        Assert.Equal(AcceptStat.PROC_UNAVAIL, callit.AcceptStat);
        var nul = await c.CallRawAsync(PortmapProgram.PROGRAM, 2, 0, _ => { });
        Assert.True(nul.IsSuccess);
    }
}
