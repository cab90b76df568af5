using Microsoft.Extensions.Logging.Abstractions;
using NfsGate.Rpc;

namespace NfsGate.Protocol.Tests;

public class Nfs3ProgramTableTests
{
    private static readonly Nfs3Program Program = Make(quickNamespace: false);

    private static Nfs3Program Make(bool quickNamespace) =>
        new(new ExportTable(), new StubFs(quickNamespace), new FileHandleCodec(new byte[32]), new Nfs3Options(), NullLogger.Instance);

    private sealed class StubFs(bool quickNamespace) : NfsGate.FileSystem.IFileSystem
    {
        public ulong WriteVerifier => 1;
        public NfsGate.FileSystem.IFsVolume Volume(uint volumeId) => throw new NotSupportedException();
        public ValueTask FlushAllAsync(CancellationToken ct = default) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        public bool QuickNamespaceChanges => quickNamespace;
    }

    [Fact]
    public void All_22_procedures_exist_with_their_rfc_names()
    {
        for (uint p = 0; p <= 21; p++)
        {
            var proc = Program.GetProcedure(3, p);
            Assert.NotNull(proc);
            Assert.Equal(p, proc.Number);
            Assert.Equal(((Nfs3Proc)p).ToString(), proc.Name);
        }
        Assert.Null(Program.GetProcedure(3, 22));
        Assert.Null(Program.GetProcedure(2, 1));
        Assert.Equal((100003u, 3u, 3u), (Program.Program, Program.LowVersion, Program.HighVersion));
    }

    [Theory]
    [InlineData(Nfs3Proc.NULL, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.GETATTR, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.SETATTR, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.LOOKUP, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.ACCESS, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.READLINK, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.READ, ProcFlags.Quick | ProcFlags.DataRead)]
    [InlineData(Nfs3Proc.WRITE, ProcFlags.MakesWrite | ProcFlags.DataWrite)]
    [InlineData(Nfs3Proc.CREATE, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.MKDIR, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.SYMLINK, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.MKNOD, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.REMOVE, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.RMDIR, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.RENAME, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.LINK, ProcFlags.MakesWrite | ProcFlags.NonIdempotent)]
    [InlineData(Nfs3Proc.READDIR, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.READDIRPLUS, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.FSSTAT, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.FSINFO, ProcFlags.Quick)]
    [InlineData(Nfs3Proc.PATHCONF, ProcFlags.Quick)]
    // COMMIT waits for uploads and the metadata commit: never answered on a connection's receive thread.
    [InlineData(Nfs3Proc.COMMIT, ProcFlags.None)]
    public void Procedure_flags(Nfs3Proc proc, ProcFlags flags) => Assert.Equal(flags, Program.GetProcedure(3, (uint)proc)!.Flags);

    [Theory]
    [InlineData(Nfs3Proc.CREATE, true)]
    [InlineData(Nfs3Proc.MKDIR, true)]
    [InlineData(Nfs3Proc.SYMLINK, true)]
    [InlineData(Nfs3Proc.MKNOD, true)]
    [InlineData(Nfs3Proc.REMOVE, true)]
    [InlineData(Nfs3Proc.RMDIR, true)]
    [InlineData(Nfs3Proc.RENAME, true)]
    [InlineData(Nfs3Proc.LINK, true)]
    [InlineData(Nfs3Proc.SETATTR, false)]  // a size change waits for flushes
    [InlineData(Nfs3Proc.WRITE, false)]    // FILE_SYNC waits for uploads and an fsync
    [InlineData(Nfs3Proc.COMMIT, false)]
    [InlineData(Nfs3Proc.GETATTR, true)]
    public void Namespace_changes_are_quick_only_on_an_engine_that_commits_locally(Nfs3Proc proc, bool quickThere)
    {
        var local = Make(quickNamespace: true).GetProcedure(3, (uint)proc)!.Flags;
        Assert.Equal(quickThere, (local & ProcFlags.Quick) != 0);
        // Apart from Quick, the flags do not depend on the engine.
        Assert.Equal(Program.GetProcedure(3, (uint)proc)!.Flags | (local & ProcFlags.Quick), local);
    }

    [Fact]
    public void Mount_and_portmap_tables()
    {
        var mount = new MountProgram(new ExportTable(), new FileHandleCodec(new byte[32]), NullLogger.Instance);
        Assert.Equal(["NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT"], Enumerable.Range(0, 6).Select(p => mount.GetProcedure(3, (uint)p)!.Name));
        Assert.Null(mount.GetProcedure(3, 6));
        var pm = new PortmapProgram(2049, 111);
        Assert.Null(pm.GetProcedure(2, 5)); // CALLIT
        Assert.Equal(2049u, pm.Lookup(100005, 2, 6));
        Assert.Equal(111u, pm.Lookup(100000, 2, 6));
        Assert.Equal(0u, pm.Lookup(100000, 2, 17));
    }
}
