using System.Text;
using NfsGate.Metadata;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>Each of the 22 NFSv3 procedures through the real server, success and failure shapes.</summary>
[Collection(ServerCollection.Name)]
public class Nfs3ProcedureTests(ProtocolServer server)
{
    private static SetAttrRequest ModeAttr(uint mode) => new() { Mode = mode };

    private static async Task<byte[]> NewFile(Nfs3Client c, byte[] dir, string name, string content = "")
    {
        var cr = await c.CreateAsync(dir, name, attrs: ModeAttr(0x1A4));
        Assert.Equal(NfsStat3.NFS3_OK, cr.Status);
        if (content.Length > 0)
        {
            var wr = await c.WriteAsync(cr.Handle!, 0, Encoding.UTF8.GetBytes(content));
            Assert.Equal(NfsStat3.NFS3_OK, wr.Status);
        }
        return cr.Handle!;
    }

    [Fact]
    public async Task Null_returns_an_empty_success()
    {
        var (c, _, _) = await server.FreshAsync();
        await using var _c = c;
        Assert.True(await c.NullAsync());
    }

    [Fact]
    public async Task GetAttr_of_the_export_root()
    {
        var (c, root, e) = await server.FreshAsync();
        await using var _c = c;
        var r = await c.GetAttrAsync(root);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        var a = r.Attr!;
        Assert.Equal(Ftype3.NF3DIR, a.Type);
        Assert.Equal(INamespace.RootInode, a.FileId);
        Assert.Equal(e.Id, a.Fsid);
        Assert.Equal(0x1EDu, a.Mode);
        Assert.True(a.Nlink >= 2);
    }

    [Fact]
    public async Task Garbled_handle_is_badhandle_with_the_resfail_body()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var bad = (byte[])root.Clone();
        bad[^1] ^= 1;
        // GETATTR's resfail is void: exactly the status word.
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)Nfs3Proc.GETATTR, w => w.WriteOpaque(bad));
        Assert.Equal(Convert.FromHexString("00002711"), raw.Results);
        // LOOKUP's resfail is post_op_attr: status + "no attributes".
        var lk = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)Nfs3Proc.LOOKUP, w => { w.WriteOpaque(bad); w.WriteString("x"); });
        Assert.Equal(Convert.FromHexString("0000271100000000"), lk.Results);
        // RENAME's resfail is two wcc_data.
        var rn = await c.RenameAsync(bad, "a", root, "b");
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, rn.Status);
        Assert.Null(rn.FromWcc.After);
        Assert.Equal(NfsStat3.NFS3ERR_BADHANDLE, (await c.GetAttrAsync(new byte[8])).Status);
    }

    [Fact]
    public async Task Oversized_handle_is_garbage_args()
    {
        var (c, _, _) = await server.FreshAsync();
        await using var _c = c;
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)Nfs3Proc.GETATTR, w => w.WriteOpaque(new byte[65]));
        Assert.Equal(AcceptStat.GARBAGE_ARGS, raw.AcceptStat);
    }

    [Fact]
    public async Task Removed_file_handle_is_stale()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "gone");
        Assert.Equal(NfsStat3.NFS3_OK, (await c.RemoveAsync(root, "gone")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, (await c.GetAttrAsync(fh)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, (await c.ReadAsync(fh, 0, 10)).Status);
        var wr = await c.WriteAsync(fh, 0, new byte[3]);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, wr.Status);
        Assert.Null(wr.Wcc.Before);
    }

    [Fact]
    public async Task Handle_of_a_removed_export_is_stale()
    {
        var (c, root, e) = await server.FreshAsync();
        await using var _c = c;
        server.Fixture.RemoveExport(e);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, (await c.GetAttrAsync(root)).Status);
    }

    [Fact]
    public async Task SetAttr_changes_mode_and_size_and_honours_the_guard()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "f", "hello world");
        var r = await c.SetAttrAsync(fh, new SetAttrRequest { Mode = 0x180, Size = 5 });
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.Equal(0x180u, r.Wcc.After!.Mode);
        Assert.Equal(5UL, r.Wcc.After.Size);
        Assert.Equal(11UL, r.Wcc.Before!.Size);

        var ctime = r.Wcc.After.Ctime;
        var wrong = new NfsTime(ctime.Seconds + 1, ctime.Nanos);
        var g = await c.SetAttrAsync(fh, ModeAttr(0x1FF), wrong);
        Assert.Equal(NfsStat3.NFS3ERR_NOT_SYNC, g.Status);
        Assert.Equal(0x180u, (await c.GetAttrAsync(fh)).Attr!.Mode);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.SetAttrAsync(fh, ModeAttr(0x1FF), ctime)).Status);
    }

    [Fact]
    public async Task SetAttr_client_times()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "t");
        var req = new SetAttrRequest
        {
            AtimeHow = TimeHow.ClientTime, Atime = new Timespec(1000, 5),
            MtimeHow = TimeHow.ClientTime, Mtime = new Timespec(2000, 6),
        };
        var r = await c.SetAttrAsync(fh, req);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.Equal(new NfsTime(1000, 5), r.Wcc.After!.Atime);
        Assert.Equal(new NfsTime(2000, 6), r.Wcc.After.Mtime);
    }

    [Fact]
    public async Task Lookup_finds_created_files_and_reports_errors()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "a");
        var l = await c.LookupAsync(root, "a");
        Assert.Equal(NfsStat3.NFS3_OK, l.Status);
        Assert.Equal(fh, l.Handle);
        Assert.Equal(Ftype3.NF3REG, l.Attr!.Type);
        Assert.Equal(Ftype3.NF3DIR, l.DirAttr!.Type);

        var missing = await c.LookupAsync(root, "nope");
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, missing.Status);
        Assert.NotNull(missing.DirAttr);

        Assert.Equal(NfsStat3.NFS3ERR_NOTDIR, (await c.LookupAsync(fh, "x")).Status);
        var tooLong = await c.LookupAsync(root, Nfs3Client.LongName(256));
        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, tooLong.Status);
        Assert.NotNull(tooLong.DirAttr);

        var dot = await c.LookupAsync(root, ".");
        Assert.Equal(NfsStat3.NFS3_OK, dot.Status);
        Assert.Equal(INamespace.RootInode, dot.Attr!.FileId);
    }

    [Fact]
    public async Task Access_as_root_and_as_nobody()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        const uint all = 0x3F;
        var a = await c.AccessAsync(root, all);
        Assert.Equal(NfsStat3.NFS3_OK, a.Status);
        Assert.Equal(0x1Fu & all, a.Access & 0x1F); // root: read, lookup, modify, extend, delete
        Assert.NotNull(a.Attr);

        c.Credential = RpcClientCredential.None; // nobody, on a 0755 root-owned directory
        var n = await c.AccessAsync(root, all);
        Assert.Equal(NfsStat3.NFS3_OK, n.Status);
        Assert.Equal(0x01u | 0x02u, n.Access & 0x1F);
    }

    [Fact]
    public async Task Symlink_and_ReadLink()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var s = await c.SymlinkAsync(root, "ln", "../target/file");
        Assert.Equal(NfsStat3.NFS3_OK, s.Status);
        Assert.Equal(Ftype3.NF3LNK, s.Attr!.Type);
        Assert.NotNull(s.DirWcc.After);
        var r = await c.ReadLinkAsync(s.Handle!);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.Equal("../target/file", r.Target);
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, (await c.ReadLinkAsync(root)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, (await c.SymlinkAsync(root, "ln", "x")).Status);
    }

    [Fact]
    public async Task Write_then_read_back()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "data");
        var payload = Enumerable.Range(0, 10000).Select(i => (byte)(i * 7)).ToArray();
        var w = await c.WriteAsync(fh, 0, payload, StableHow3.FILE_SYNC);
        Assert.Equal(NfsStat3.NFS3_OK, w.Status);
        Assert.Equal((uint)payload.Length, w.Count);
        Assert.Equal(StableHow3.FILE_SYNC, w.Committed);
        Assert.Equal(server.Fixture.FileSystem.WriteVerifier, w.Verifier);
        Assert.Equal((ulong)payload.Length, w.Wcc.After!.Size);

        var r = await c.ReadAsync(fh, 0, 20000);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.True(r.Eof);
        Assert.Equal(payload, r.Data);
        Assert.Equal(12288UL, r.Attr!.Used);

        var mid = await c.ReadAsync(fh, 100, 50);
        Assert.False(mid.Eof);
        Assert.Equal(payload[100..150], mid.Data);

        var past = await c.ReadAsync(fh, 50000, 10);
        Assert.Equal(NfsStat3.NFS3_OK, past.Status);
        Assert.True(past.Eof);
        Assert.Empty(past.Data);
    }

    [Fact]
    public async Task Unstable_write_then_commit_with_the_same_verifier()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "u");
        var w = await c.WriteAsync(fh, 0, new byte[4096], StableHow3.UNSTABLE);
        Assert.Equal(NfsStat3.NFS3_OK, w.Status);
        var cm = await c.CommitAsync(fh);
        Assert.Equal(NfsStat3.NFS3_OK, cm.Status);
        Assert.Equal(w.Verifier, cm.Verifier);
        Assert.Equal(4096UL, cm.Wcc.After!.Size);
        Assert.Equal(NfsStat3.NFS3ERR_ISDIR, (await c.CommitAsync(root)).Status);
    }

    [Fact]
    public async Task Write_count_mismatch_is_inval_and_directories_are_isdir()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "m");
        var w = await c.WriteAsync(fh, 0, new byte[10], count: 11);
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, w.Status);
        Assert.NotNull(w.Wcc.After);
        Assert.Equal(NfsStat3.NFS3ERR_ISDIR, (await c.WriteAsync(root, 0, new byte[1])).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ISDIR, (await c.ReadAsync(root, 0, 1)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_FBIG, (await c.WriteAsync(fh, Layout.MaxFileSize, new byte[1])).Status);
    }

    [Fact]
    public async Task Create_modes()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var first = await c.CreateAsync(root, "f", CreateMode3.GUARDED, ModeAttr(0x1A4));
        Assert.Equal(NfsStat3.NFS3_OK, first.Status);
        Assert.Equal(0x1A4u, first.Attr!.Mode);
        Assert.NotNull(first.DirWcc.Before);
        Assert.NotNull(first.DirWcc.After);

        var again = await c.CreateAsync(root, "f", CreateMode3.GUARDED);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, again.Status);
        Assert.NotNull(again.DirWcc.After);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.CreateAsync(root, "f", CreateMode3.UNCHECKED)).Status);

        var x1 = await c.CreateAsync(root, "x", CreateMode3.EXCLUSIVE, verifier: 0x0102030405060708);
        Assert.Equal(NfsStat3.NFS3_OK, x1.Status);
        var x2 = await c.CreateAsync(root, "x", CreateMode3.EXCLUSIVE, verifier: 0x0102030405060708);
        Assert.Equal(NfsStat3.NFS3_OK, x2.Status);
        Assert.Equal(x1.Handle, x2.Handle);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, (await c.CreateAsync(root, "x", CreateMode3.EXCLUSIVE, verifier: 9)).Status);

        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, (await c.CreateAsync(root, Nfs3Client.LongName(300))).Status);
        Assert.Equal(NfsStat3.NFS3ERR_INVAL, (await c.CreateAsync(root, "a/b")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOTDIR, (await c.CreateAsync(first.Handle!, "child")).Status);
    }

    [Fact]
    public async Task Mkdir_and_Rmdir()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var d = await c.MkdirAsync(root, "d", ModeAttr(0x1C0));
        Assert.Equal(NfsStat3.NFS3_OK, d.Status);
        Assert.Equal(Ftype3.NF3DIR, d.Attr!.Type);
        Assert.Equal(0x1C0u, d.Attr.Mode);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, (await c.MkdirAsync(root, "d")).Status);

        await NewFile(c, d.Handle!, "inner");
        var ne = await c.RmdirAsync(root, "d");
        Assert.Equal(NfsStat3.NFS3ERR_NOTEMPTY, ne.Status);
        Assert.NotNull(ne.Wcc.After);
        await NewFile(c, root, "plain");
        Assert.Equal(NfsStat3.NFS3ERR_NOTDIR, (await c.RmdirAsync(root, "plain")).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.RemoveAsync(d.Handle!, "inner")).Status);
        var ok = await c.RmdirAsync(root, "d");
        Assert.Equal(NfsStat3.NFS3_OK, ok.Status);
        Assert.NotNull(ok.Wcc.Before);
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await c.RmdirAsync(root, "d")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_STALE, (await c.GetAttrAsync(d.Handle!)).Status);
    }

    [Fact]
    public async Task Mknod_types()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fifo = await c.MknodAsync(root, "fifo", Ftype3.NF3FIFO);
        Assert.Equal(NfsStat3.NFS3_OK, fifo.Status);
        Assert.Equal(Ftype3.NF3FIFO, fifo.Attr!.Type);
        var chr = await c.MknodAsync(root, "chr", Ftype3.NF3CHR, 4, 64);
        Assert.Equal(NfsStat3.NFS3_OK, chr.Status);
        Assert.Equal(Ftype3.NF3CHR, chr.Attr!.Type);
        Assert.Equal((4u, 64u), (chr.Attr.RdevMajor, chr.Attr.RdevMinor));
        Assert.Equal(NfsStat3.NFS3_OK, (await c.MknodAsync(root, "sock", Ftype3.NF3SOCK)).Status);
        var reg = await c.MknodAsync(root, "reg", Ftype3.NF3REG);
        Assert.Equal(NfsStat3.NFS3ERR_BADTYPE, reg.Status);
        Assert.NotNull(reg.DirWcc.After);
        Assert.Equal(NfsStat3.NFS3ERR_BADTYPE, (await c.MknodAsync(root, "dir", Ftype3.NF3DIR)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, (await c.MknodAsync(root, "fifo", Ftype3.NF3FIFO)).Status);
    }

    [Fact]
    public async Task Remove_files()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        await NewFile(c, root, "r", "x");
        var r = await c.RemoveAsync(root, "r");
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.NotNull(r.Wcc.Before);
        Assert.NotNull(r.Wcc.After);
        var again = await c.RemoveAsync(root, "r");
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, again.Status);
        Assert.NotNull(again.Wcc.After);
        Assert.Equal(NfsStat3.NFS3ERR_NAMETOOLONG, (await c.RemoveAsync(root, Nfs3Client.LongName(256))).Status);
    }

    [Fact]
    public async Task Rename_within_and_across_exports()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "old");
        var d = await c.MkdirAsync(root, "dir");
        var r = await c.RenameAsync(root, "old", d.Handle!, "new");
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.NotNull(r.FromWcc.After);
        Assert.NotNull(r.ToWcc.After);
        Assert.Equal(fh, (await c.LookupAsync(d.Handle!, "new")).Handle);
        Assert.Equal(NfsStat3.NFS3ERR_NOENT, (await c.RenameAsync(root, "old", root, "x")).Status);

        var other = server.Fixture.AddExport();
        var otherRoot = await c.MountHandleAsync(other.Path);
        var x = await c.RenameAsync(d.Handle!, "new", otherRoot, "moved");
        Assert.Equal(NfsStat3.NFS3ERR_XDEV, x.Status);

        await NewFile(c, d.Handle!, "f2");
        var sub = await c.MkdirAsync(root, "sub");
        await NewFile(c, sub.Handle!, "content");
        Assert.Equal(NfsStat3.NFS3ERR_ISDIR, (await c.RenameAsync(d.Handle!, "f2", root, "sub")).Status);
        var notEmpty = await c.RenameAsync(root, "dir", root, "sub");
        Assert.Contains(notEmpty.Status, new[] { NfsStat3.NFS3ERR_NOTEMPTY, NfsStat3.NFS3ERR_EXIST });
    }

    [Fact]
    public async Task Link_counts_and_cross_export()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "orig");
        var l = await c.LinkAsync(fh, root, "second");
        Assert.Equal(NfsStat3.NFS3_OK, l.Status);
        Assert.Equal(2u, l.Attr!.Nlink);
        Assert.NotNull(l.DirWcc.After);
        Assert.Equal(fh, (await c.LookupAsync(root, "second")).Handle);
        Assert.Equal(NfsStat3.NFS3ERR_EXIST, (await c.LinkAsync(fh, root, "second")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ISDIR, (await c.LinkAsync(root, root, "rootlink")).Status);

        var other = server.Fixture.AddExport();
        var otherRoot = await c.MountHandleAsync(other.Path);
        var x = await c.LinkAsync(fh, otherRoot, "x");
        Assert.Equal(NfsStat3.NFS3ERR_XDEV, x.Status);
        Assert.NotNull(x.Attr);
    }

    [Fact]
    public async Task ReadDir_lists_every_entry_across_pages()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var names = Enumerable.Range(0, 40).Select(i => $"file-{i:D3}").ToHashSet();
        foreach (var n in names) await NewFile(c, root, n);

        var all = await c.ReadDirAsync(root, count: 65536);
        Assert.Equal(NfsStat3.NFS3_OK, all.Status);
        Assert.True(all.Eof);
        Assert.Superset(names, all.Entries.Select(e => e.Name).ToHashSet());

        // Small pages: every reply within count, no duplicates, all names seen, eof only at the end.
        var seen = new List<string>();
        ulong cookie = 0, verf = 0;
        for (int page = 0; page < 100; page++)
        {
            var r = await c.ReadDirAsync(root, cookie, verf, 512);
            Assert.Equal(NfsStat3.NFS3_OK, r.Status);
            Assert.True(r.Entries.Count > 0 || r.Eof);
            seen.AddRange(r.Entries.Select(e => e.Name));
            if (r.Eof) break;
            cookie = r.Entries[^1].Cookie;
            verf = r.Verifier;
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Superset(names, seen.ToHashSet());
        Assert.True(seen.Count > 40 - 1);
    }

    [Fact]
    public async Task ReadDir_reply_never_exceeds_count()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        for (int i = 0; i < 20; i++) await NewFile(c, root, new string('n', 100) + i);
        foreach (uint count in new uint[] { 400, 700, 1024, 4096 })
        {
            var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)Nfs3Proc.READDIR, w =>
            {
                w.WriteOpaque(root); w.WriteUInt64(0); w.WriteUInt64(0); w.WriteUInt32(count);
            });
            Assert.True(raw.Results.Length <= count, $"count {count}: reply {raw.Results.Length}");
        }
    }

    [Fact]
    public async Task ReadDir_too_small_and_not_a_directory()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "some-file-name");
        var small = await c.ReadDirAsync(root, count: 100);
        Assert.Equal(NfsStat3.NFS3ERR_TOOSMALL, small.Status);
        Assert.NotNull(small.DirAttr);
        Assert.Equal(NfsStat3.NFS3ERR_TOOSMALL, (await c.ReadDirPlusAsync(root, maxcount: 150)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOTDIR, (await c.ReadDirAsync(fh)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_NOTDIR, (await c.ReadDirPlusAsync(fh)).Status);
    }

    [Fact]
    public async Task ReadDir_with_a_wrong_verifier_is_bad_cookie()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        for (int i = 0; i < 5; i++) await NewFile(c, root, "f" + i);
        var first = await c.ReadDirAsync(root, count: 300);
        Assert.Equal(NfsStat3.NFS3_OK, first.Status);
        Assert.False(first.Eof);
        var bad = await c.ReadDirAsync(root, first.Entries[^1].Cookie, first.Verifier ^ 0xFFFF, 300);
        Assert.Equal(NfsStat3.NFS3ERR_BAD_COOKIE, bad.Status);
    }

    [Fact]
    public async Task ReadDirPlus_carries_attributes_and_handles()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var fh = await NewFile(c, root, "plus", "abc");
        var r = await c.ReadDirPlusAsync(root);
        Assert.Equal(NfsStat3.NFS3_OK, r.Status);
        Assert.True(r.Eof);
        var e = Assert.Single(r.Entries, x => x.Name == "plus");
        Assert.Equal(fh, e.Handle);
        Assert.Equal(3UL, e.Attr!.Size);
        Assert.Equal(e.FileId, e.Attr.FileId);
        foreach (var x in r.Entries.Where(x => x.Handle is not null))
            Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(x.Handle!)).Status);
    }

    [Fact]
    public async Task ReadDirPlus_honours_dircount_and_maxcount()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        for (int i = 0; i < 30; i++) await NewFile(c, root, "entry" + i);
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, (uint)Nfs3Proc.READDIRPLUS, w =>
        {
            w.WriteOpaque(root); w.WriteUInt64(0); w.WriteUInt64(0); w.WriteUInt32(100000); w.WriteUInt32(2000);
        });
        Assert.True(raw.Results.Length <= 2000);
        var limited = await c.ReadDirPlusAsync(root, dircount: 100, maxcount: 100000);
        Assert.Equal(NfsStat3.NFS3_OK, limited.Status);
        Assert.False(limited.Eof);
        Assert.InRange(limited.Entries.Count, 1, 4); // ~36 directory bytes per entry
    }

    [Fact]
    public async Task FsStat_FsInfo_PathConf()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        var st = await c.FsStatAsync(root);
        Assert.Equal(NfsStat3.NFS3_OK, st.Status);
        Assert.Equal(1UL << 50, st.TBytes);
        Assert.True(st.FBytes <= st.TBytes && st.ABytes == st.FBytes);
        Assert.Equal(1UL << 40, st.TFiles);
        Assert.True(st.FFiles < st.TFiles);
        Assert.Equal(0u, st.InvarSec);

        var fi = await c.FsInfoAsync(root);
        Assert.Equal(NfsStat3.NFS3_OK, fi.Status);
        Assert.Equal((1u << 20, 1u << 20, 4096u), (fi.RtMax, fi.RtPref, fi.RtMult));
        Assert.Equal((1u << 20, 1u << 20, 4096u), (fi.WtMax, fi.WtPref, fi.WtMult));
        Assert.Equal(65536u, fi.DtPref);
        Assert.Equal(Layout.MaxFileSize, fi.MaxFileSize);
        Assert.Equal(new NfsTime(0, 1), fi.TimeDelta);
        Assert.Equal(0x1Bu, fi.Properties);
        Assert.NotNull(fi.Attr);

        var pc = await c.PathConfAsync(root);
        Assert.Equal(new PathConfResult(NfsStat3.NFS3_OK, pc.Attr, 65000, 255, true, true, false, true), pc);
    }

    [Fact]
    public async Task Read_only_export_refuses_writes_with_rofs()
    {
        var (c, root, e) = await server.FreshAsync();
        await using var _c = c;
        await NewFile(c, root, "existing", "data");
        var ro = server.Fixture.AddAlias(e, e.Path + "-ro", readOnly: true);
        var roRoot = await c.MountHandleAsync(ro.Path);
        var file = (await c.LookupAsync(roRoot, "existing")).Handle!;

        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.CreateAsync(roRoot, "new")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.MkdirAsync(roRoot, "new")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.RemoveAsync(roRoot, "existing")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.WriteAsync(file, 0, new byte[1])).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.SetAttrAsync(file, ModeAttr(0x1FF))).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.RenameAsync(roRoot, "existing", roRoot, "x")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.LinkAsync(file, roRoot, "x")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.SymlinkAsync(roRoot, "s", "t")).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.MknodAsync(roRoot, "p", Ftype3.NF3FIFO)).Status);
        Assert.Equal(NfsStat3.NFS3ERR_ROFS, (await c.RmdirAsync(roRoot, "d")).Status);

        var read = await c.ReadAsync(file, 0, 100);
        Assert.Equal(NfsStat3.NFS3_OK, read.Status);
        Assert.Equal("data"u8.ToArray(), read.Data);
        var acc = await c.AccessAsync(file, 0x3F);
        Assert.Equal(0u, acc.Access & (0x04u | 0x08u | 0x10u));
    }

    [Fact]
    public async Task Auth_none_writes_as_nobody()
    {
        var (c, root, _) = await server.FreshAsync();
        await using var _c = c;
        Assert.Equal(NfsStat3.NFS3_OK, (await c.SetAttrAsync(root, ModeAttr(0x1FF))).Status);
        c.Credential = RpcClientCredential.None;
        var cr = await c.CreateAsync(root, "anon");
        Assert.Equal(NfsStat3.NFS3_OK, cr.Status);
        Assert.Equal(RpcCredential.Nobody, cr.Attr!.Uid);
        Assert.Equal(RpcCredential.Nobody, cr.Attr.Gid);
    }

    [Fact]
    public async Task Unknown_procedure_is_proc_unavail()
    {
        var (c, _, _) = await server.FreshAsync();
        await using var _c = c;
        var raw = await c.CallRawAsync(Nfs3Const.PROGRAM, 3, 22, _ => { });
        Assert.Equal(AcceptStat.PROC_UNAVAIL, raw.AcceptStat);
    }
}
