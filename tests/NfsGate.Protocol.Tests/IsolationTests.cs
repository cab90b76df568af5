using System.Net;
using NfsGate.Metadata;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>
/// Client rules enforced by a real server over TCP: MNT, the per-call re-check on every handle, squash, read-only
/// clients, and handles replayed across exports or altered. Source addresses 127.0.0.x pick the rule.
/// </summary>
[Collection(ServerCollection.Name)]
public class IsolationTests(ProtocolServer server)
{
    static readonly IPAddress A2 = IPAddress.Parse("127.0.0.2");
    static readonly IPAddress A3 = IPAddress.Parse("127.0.0.3");
    static readonly IPAddress A4 = IPAddress.Parse("127.0.0.4");

    ServerFixture F => server.Fixture;

    /// <summary>A fresh export with these rules (its own volume).</summary>
    Export AddWithRules(params ClientRule[] rules)
    {
        var plain = F.AddExport();
        F.RemoveExport(plain);
        return F.AddExport(plain with { Clients = rules });
    }

    async Task<Nfs3Client> From(IPAddress local, RpcClientCredential? cred = null) =>
        new(await RawRpcClient.ConnectAsync(F.EndPoint, local), cred ?? RpcClientCredential.Sys(0, 0));

    [Fact]
    public async Task Mnt_from_a_client_without_a_rule_is_refused()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        await using var ok = await From(A2);
        Assert.Equal(MountStat3.MNT3_OK, (await ok.MountAsync(e.Path)).Status);
        await using var other = await From(A3);
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await other.MountAsync(e.Path)).Status);
        // Nor does it learn which subdirectories exist.
        Assert.Equal(NfsStat3.NFS3_OK, (await ok.MkdirAsync(await ok.MountHandleAsync(e.Path), "sub")).Status);
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await other.MountAsync(e.Path + "/sub")).Status);
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await other.MountAsync(e.Path + "/nosuch")).Status);
    }

    [Fact]
    public async Task Mnt_from_a_none_rule_is_refused()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.3", Access = ExportAccess.None }, new ClientRule { Match = "127.0.0.0/8" });
        await using var denied = await From(A3);
        Assert.Equal(MountStat3.MNT3ERR_ACCES, (await denied.MountAsync(e.Path)).Status);
        await using var ok = await From(A4);
        Assert.Equal(MountStat3.MNT3_OK, (await ok.MountAsync(e.Path)).Status);
    }

    [Fact]
    public async Task Every_call_rechecks_the_rule_a_foreign_handle_grants_nothing()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        await using var owner = await From(A2);
        var root = await owner.MountHandleAsync(e.Path);
        var file = await owner.CreateAsync(root, "secret");
        Assert.Equal(NfsStat3.NFS3_OK, file.Status);

        // 127.0.0.3 never mounted, but replays the handles it saw on the wire.
        await using var thief = await From(A3);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.GetAttrAsync(root)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.LookupAsync(root, "secret")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.ReadAsync(file.Handle!, 0, 10)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.WriteAsync(file.Handle!, 0, new byte[] { 1 })).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.ReadDirAsync(root)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.RemoveAsync(root, "secret")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await thief.FsStatAsync(root)).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await owner.GetAttrAsync(file.Handle!)).Status);
    }

    [Fact]
    public async Task A_removed_rule_cuts_off_a_mounted_client_at_its_next_call()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2" });
        await using var c = await From(A2);
        var root = await c.MountHandleAsync(e.Path);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(root)).Status);
        F.RemoveExport(e);
        var changed = F.AddExport(e with { Clients = [new ClientRule { Match = "127.0.0.9" }] });
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await c.GetAttrAsync(root)).Status);
        F.RemoveExport(changed);
        F.AddExport(e);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(root)).Status); // the same handle works again
    }

    [Fact]
    public async Task Read_only_rule_gives_rofs_for_writes_and_allows_reads()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.3", Access = ExportAccess.ReadOnly }, new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        await using var rw = await From(A2);
        var root = await rw.MountHandleAsync(e.Path);
        var f = await rw.CreateAsync(root, "f", attrs: new SetAttrRequest { Mode = 0x1B6 });
        Assert.Equal(NfsStat3.NFS3_OK, (await rw.WriteAsync(f.Handle!, 0, "hello"u8.ToArray())).Status);

        await using var ro = await From(A3);
        var roRoot = await ro.MountHandleAsync(e.Path);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await ro.CreateAsync(roRoot, "g")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await ro.WriteAsync(f.Handle!, 0, new byte[] { 1 })).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await ro.RemoveAsync(roRoot, "f")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await ro.SetAttrAsync(f.Handle!, new SetAttrRequest { Mode = 0x1FF })).Status);
        var read = await ro.ReadAsync(f.Handle!, 0, 100);
        Assert.Equal("hello"u8.ToArray(), read.Data);
        // ACCESS answers what the client may do: no MODIFY/EXTEND/DELETE through a read-only rule.
        var access = await ro.AccessAsync(f.Handle!, 0x3F);
        Assert.Equal(0u, access.Access & (0x04u | 0x08u | 0x10u));
    }

    [Fact]
    public async Task Root_squash_creates_files_as_nobody()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.Root, AnonUid = 65534, AnonGid = 65534 },
            new ClientRule { Match = "127.0.0.4", Squash = SquashMode.None });
        // Real root (from 127.0.0.4) opens the export root up and leaves a 0600 file of its own.
        await using (var admin = await From(A4))
        {
            var r = await admin.MountHandleAsync(e.Path);
            Assert.Equal(NfsStat3.NFS3_OK, (await admin.SetAttrAsync(r, new SetAttrRequest { Mode = 0x1FF })).Status);
            Assert.Equal(NfsStat3.NFS3_OK, (await admin.CreateAsync(r, "roots", attrs: new SetAttrRequest { Mode = 0x180 })).Status);
        }
        await using var c = await From(A2, RpcClientCredential.Sys(0, 0));
        var root = await c.MountHandleAsync(e.Path);
        var made = await c.CreateAsync(root, "by-root");
        Assert.Equal(NfsStat3.NFS3_OK, made.Status);
        Assert.Equal((65534u, 65534u), (made.Attr!.Uid, made.Attr.Gid));
        // Squashed root is not root: the real root's 0600 file is closed to it, and it cannot chown.
        var roots = await c.LookupAsync(root, "roots");
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await c.ReadAsync(roots.Handle!, 0, 1)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_PERM, (await c.SetAttrAsync(made.Handle!, new SetAttrRequest { Uid = 0 })).Status);
    }

    [Fact]
    public async Task All_squash_maps_every_user_to_the_anonymous_ids()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.All, AnonUid = 4242, AnonGid = 4343 },
            new ClientRule { Match = "127.0.0.4", Squash = SquashMode.None });
        await using (var admin = await From(A4))
        {
            var r = await admin.MountHandleAsync(e.Path);
            await admin.SetAttrAsync(r, new SetAttrRequest { Mode = 0x1FF });
        }
        await using var c = await From(A2, RpcClientCredential.Sys(1000, 1000, 1000));
        var root = await c.MountHandleAsync(e.Path);
        var made = await c.CreateAsync(root, "x");
        Assert.Equal((4242u, 4343u), (made.Attr!.Uid, made.Attr.Gid));
    }

    [Fact]
    public async Task No_squash_keeps_root()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        await using var c = await From(A2, RpcClientCredential.Sys(0, 0));
        var root = await c.MountHandleAsync(e.Path);
        var made = await c.CreateAsync(root, "x");
        Assert.Equal((0u, 0u), (made.Attr!.Uid, made.Attr.Gid));
    }

    [Fact]
    public async Task A_handle_of_export_a_used_by_a_client_allowed_only_on_b_is_refused()
    {
        var a = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        var b = AddWithRules(new ClientRule { Match = "127.0.0.3", Squash = SquashMode.None });
        await using var ca = await From(A2);
        var rootA = await ca.MountHandleAsync(a.Path);
        var fileA = await ca.CreateAsync(rootA, "a-file");

        await using var cb = await From(A3);
        var rootB = await cb.MountHandleAsync(b.Path);
        // Replayed as-is: the handle names export A, whose rules refuse 127.0.0.3.
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await cb.GetAttrAsync(fileA.Handle!)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ACCES, (await cb.ReadAsync(fileA.Handle!, 0, 1)).Status);
        // Relabelled as export B (same inode): the MAC no longer matches.
        var relabelled = (byte[])fileA.Handle!.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(relabelled.AsSpan(1), b.Id);
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await cb.GetAttrAsync(relabelled)).Status);
        // Mixed in one call: RENAME from B into A's directory.
        await cb.CreateAsync(rootB, "b-file");
        Assert.Equal(NfsStat3.NFS3ERR_XDEV, (await cb.RenameAsync(rootB, "b-file", rootA, "moved")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await ca.LookupAsync(rootA, "moved")).Status);
    }

    [Fact]
    public async Task Altered_or_guessed_handles_are_rejected()
    {
        var e = AddWithRules(new ClientRule { Match = "127.0.0.2", Squash = SquashMode.None });
        await using var c = await From(A2);
        var root = await c.MountHandleAsync(e.Path);
        var f = await c.CreateAsync(root, "f");
        var h = f.Handle!;
        for (int i = 0; i < h.Length; i++)
        {
            var bad = (byte[])h.Clone();
            bad[i] ^= 0x01;
            Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await c.GetAttrAsync(bad)).Status);
        }
        // Guessing an inode number: a well-formed body with a made-up MAC.
        var guess = (byte[])h.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(guess.AsSpan(5), 1);
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await c.GetAttrAsync(guess)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await c.GetAttrAsync(h[..^1])).Status);
    }

    [Fact]
    public async Task Export_lists_rules_that_grant_access()
    {
        var e = AddWithRules(new ClientRule { Match = "10.1.0.0/16" }, new ClientRule { Match = "10.2.0.0/16", Access = ExportAccess.None });
        await using var c = await F.ConnectAsync();
        var list = await c.ExportListAsync();
        Assert.Equal(["10.1.0.0/16"], Assert.Single(list, x => x.Dir == e.Path).Groups);
    }

    [Fact]
    public async Task Quota_exhaustion_gives_dquot_and_fsstat_reports_the_quota()
    {
        var plain = F.AddExport();
        F.RemoveExport(plain);
        var quota = new VolumeQuota(10_000, 4);
        VolumeMeta.SetQuota(F.Meta.Kv, plain.Volume.VolumeId, quota);
        var e = F.AddExport(plain with { Quota = quota });
        await using var c = await F.ConnectAsync();
        var root = await c.MountHandleAsync(e.Path);
        var f = await c.CreateAsync(root, "big");
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(f.Handle!, 0, new byte[8000])).Status);
        Assert.Equal(NfsStat3.NFS3ERR_DQUOT, (await c.WriteAsync(f.Handle!, 8000, new byte[4000])).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(f.Handle!, 8000, new byte[2000])).Status);
        var st = await c.FsStatAsync(root);
        Assert.Equal((10_000UL, 0UL, 4UL, 2UL), (st.TBytes, st.FBytes, st.TFiles, st.FFiles));

        Assert.Equal(NfsStat3.NFS3_OK, (await c.CreateAsync(root, "2")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.MkdirAsync(root, "3")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_DQUOT, (await c.CreateAsync(root, "4")).Status); // root + 3 = 4 inodes
        Assert.Equal(NfsStat3.NFS3ERR_DQUOT, (await c.SymlinkAsync(root, "5", "x")).Status);
        // Freeing space makes room again.
        Assert.Equal(NfsStat3.NFS3_OK, (await c.RemoveAsync(root, "2")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.CreateAsync(root, "4")).Status);
    }
}
