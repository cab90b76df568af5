using System.Net;
using Microsoft.Extensions.Logging;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Rpc.Tests;

public class DispatcherTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Loopback, 700);
    private readonly TestProgram _program = new();
    private readonly RecordingObserver _observer = new();
    private readonly CapturingLogger _log = new();
    private readonly RpcDispatcher _dispatcher;

    public DispatcherTests()
    {
        _dispatcher = new RpcDispatcher(_log, _observer);
        _dispatcher.Register(_program);
    }

    private async Task<byte[]?> Dispatch(byte[] record, RpcDispatcher? dispatcher = null)
    {
        using var reply = await (dispatcher ?? _dispatcher).DispatchAsync(record, Client, 1, CancellationToken.None);
        return reply.IsEmpty ? null : reply.Body.ToArray();
    }

    private static uint[] Words(byte[] b)
    {
        var w = new uint[b.Length / 4];
        for (int i = 0; i < w.Length; i++) w[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i * 4));
        return w;
    }

    private static byte[] Call(uint proc, byte[]? args = null, uint vers = 3, uint prog = TestProgram.Number, RpcClientCredential? cred = null, uint rpcvers = 2, uint xid = 0x11223344)
        => RawRpcClient.BuildCall(xid, prog, vers, proc, args ?? [], cred, rpcvers);

    // Hand-built header up to and including the credential, for malformed credentials.
    private static byte[] CallWithCred(uint flavor, byte[] credBody, uint verfFlavor = 0, byte[]? verfBody = null)
    {
        using var w = new XdrWriter();
        w.WriteUInt32(0x11223344);
        w.WriteUInt32(0);
        w.WriteUInt32(2);
        w.WriteUInt32(TestProgram.Number);
        w.WriteUInt32(3);
        w.WriteUInt32(TestProgram.WhoAmI);
        w.WriteUInt32(flavor);
        w.WriteOpaque(credBody);
        w.WriteUInt32(verfFlavor);
        w.WriteOpaque(verfBody ?? []);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] AuthSysBody(string machine = "m", uint uid = 1, uint gid = 2, uint[]? gids = null, byte[]? trailing = null, uint? gidCount = null)
    {
        using var w = new XdrWriter();
        w.WriteUInt32(0);
        w.WriteString(machine);
        w.WriteUInt32(uid);
        w.WriteUInt32(gid);
        gids ??= [];
        w.WriteUInt32(gidCount ?? (uint)gids.Length);
        foreach (var g in gids) w.WriteUInt32(g);
        if (trailing is not null) w.WriteFixedOpaque(trailing);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void Quick_is_read_from_the_procedure_flags()
    {
        Assert.True(_dispatcher.IsQuick(Call(TestProgram.WhereQuick)));
        Assert.True(_dispatcher.IsQuick(Call(TestProgram.Null, vers: 2)));
        Assert.False(_dispatcher.IsQuick(Call(TestProgram.WhereNotQuick)));
        Assert.False(_dispatcher.IsQuick(Call(TestProgram.Counter)));
    }

    [Fact]
    public void Anything_odd_is_not_quick()
    {
        var call = Call(TestProgram.WhereQuick);
        Assert.False(_dispatcher.IsQuick(call.AsSpan(0, 23)));                         // shorter than the fixed words
        Assert.False(_dispatcher.IsQuick(Call(TestProgram.WhereQuick, rpcvers: 3)));   // RPC_MISMATCH
        Assert.False(_dispatcher.IsQuick(Call(TestProgram.WhereQuick, vers: 9)));      // PROG_MISMATCH
        Assert.False(_dispatcher.IsQuick(Call(TestProgram.WhereQuick, prog: 1)));      // PROG_UNAVAIL
        Assert.False(_dispatcher.IsQuick(Call(77)));                                   // PROC_UNAVAIL
        var reply = (byte[])call.Clone();
        reply[7] = 1;                                                                  // a REPLY, not a CALL
        Assert.False(_dispatcher.IsQuick(reply));
        var rnd = new Random(5);
        for (int i = 0; i < 2000; i++)
        {
            var noise = new byte[rnd.Next(0, 64)];
            rnd.NextBytes(noise);
            _dispatcher.IsQuick(noise); // never throws
        }
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(3u)]
    [InlineData(0xFFFFFFFFu)]
    public async Task Wrong_rpc_version_is_denied_with_rpc_mismatch_2_2(uint rpcvers)
    {
        var reply = await Dispatch(Call(TestProgram.Null, rpcvers: rpcvers));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 0, 2, 2 }, Words(reply!));
    }

    [Theory]
    [InlineData(AuthFlavor.AUTH_SHORT)]
    [InlineData(AuthFlavor.AUTH_DH)]
    [InlineData(AuthFlavor.RPCSEC_GSS)]
    [InlineData((AuthFlavor)12345)]
    public async Task Unsupported_flavor_is_denied_too_weak(AuthFlavor flavor)
    {
        var reply = await Dispatch(CallWithCred((uint)flavor, [1, 2, 3, 4]));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 1, (uint)AuthStat.AUTH_TOOWEAK }, Words(reply!));
    }

    public static TheoryData<string, byte[]> MalformedAuthSys() => new()
    {
        { "empty", [] },
        { "truncated", AuthSysBody()[..^2] },
        { "machinename 256", AuthSysBody(machine: new string('x', 256)) },
        { "17 gids", AuthSysBody(gids: Enumerable.Range(0, 17).Select(i => (uint)i).ToArray()) },
        { "gid count beyond body", AuthSysBody(gidCount: 3, gids: [1]) },
        { "trailing bytes", AuthSysBody(trailing: [0, 0, 0, 0]) },
    };

    [Theory]
    [MemberData(nameof(MalformedAuthSys))]
    public async Task Malformed_auth_sys_is_denied_bad_cred(string name, byte[] body)
    {
        _ = name;
        var reply = await Dispatch(CallWithCred((uint)AuthFlavor.AUTH_SYS, body));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 1, (uint)AuthStat.AUTH_BADCRED }, Words(reply!));
    }

    [Fact]
    public async Task Credential_body_over_400_bytes_is_denied_bad_cred()
    {
        var reply = await Dispatch(CallWithCred((uint)AuthFlavor.AUTH_SYS, new byte[404]));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 1, (uint)AuthStat.AUTH_BADCRED }, Words(reply!));
    }

    [Fact]
    public async Task Verifier_body_over_400_bytes_is_denied_bad_verf()
    {
        var reply = await Dispatch(CallWithCred(0, [], 0, new byte[404]));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 1, (uint)AuthStat.AUTH_BADVERF }, Words(reply!));
    }

    [Fact]
    public async Task Auth_sys_fields_reach_the_handler()
    {
        var gids = Enumerable.Range(100, 16).Select(i => (uint)i).ToArray();
        var reply = await Dispatch(CallWithCred((uint)AuthFlavor.AUTH_SYS, AuthSysBody(new string('h', 255), 1000, 1001, gids)));
        var r = new XdrReader(reply.AsSpan(24));
        Assert.Equal((uint)AuthFlavor.AUTH_SYS, r.ReadUInt32());
        Assert.Equal(1000u, r.ReadUInt32());
        Assert.Equal(1001u, r.ReadUInt32());
        Assert.Equal(16u, r.ReadUInt32());
        for (int i = 0; i < 16; i++) Assert.Equal(gids[i], r.ReadUInt32());
        Assert.Equal(new string('h', 255), r.ReadString(255));
    }

    [Fact]
    public async Task Repeated_and_differing_auth_sys_bodies_each_get_their_own_fields()
    {
        // The parsed-credential cache must answer exactly what parsing would, whatever was seen before:
        // the same body twice, then bodies differing in one field each, then a malformed one after a good one.
        (uint Uid, uint Gid, uint[] Gids, string Machine)[] cases =
        [
            (1000, 1001, [5, 6], "a"), (1000, 1001, [5, 6], "a"), (1002, 1001, [5, 6], "a"),
            (1000, 1003, [5, 6], "a"), (1000, 1001, [5, 7], "a"), (1000, 1001, [5, 6], "b"), (1000, 1001, [5, 6], "a"),
        ];
        foreach (var (uid, gid, gids, machine) in cases)
        {
            var reply = await Dispatch(CallWithCred((uint)AuthFlavor.AUTH_SYS, AuthSysBody(machine, uid, gid, gids)));
            var r = new XdrReader(reply.AsSpan(24));
            Assert.Equal((uint)AuthFlavor.AUTH_SYS, r.ReadUInt32());
            Assert.Equal(uid, r.ReadUInt32());
            Assert.Equal(gid, r.ReadUInt32());
            Assert.Equal((uint)gids.Length, r.ReadUInt32());
            foreach (var g in gids) Assert.Equal(g, r.ReadUInt32());
            Assert.Equal(machine, r.ReadString(255));
        }
        var bad = await Dispatch(CallWithCred((uint)AuthFlavor.AUTH_SYS, AuthSysBody("a", 1000, 1001, [5, 6], trailing: [0, 0, 0, 0])));
        Assert.Equal(new uint[] { 0x11223344, 1, 1, 1, (uint)AuthStat.AUTH_BADCRED }, Words(bad!));
    }

    [Fact]
    public async Task Auth_none_maps_to_nobody()
    {
        var reply = await Dispatch(Call(TestProgram.WhoAmI));
        var r = new XdrReader(reply.AsSpan(24));
        Assert.Equal((uint)AuthFlavor.AUTH_NONE, r.ReadUInt32());
        Assert.Equal(RpcCredential.Nobody, r.ReadUInt32());
        Assert.Equal(RpcCredential.Nobody, r.ReadUInt32());
        Assert.Equal(0u, r.ReadUInt32());
    }

    [Fact]
    public async Task Success_reply_has_auth_none_verifier_then_results()
    {
        var reply = await Dispatch(Call(TestProgram.Echo, TestProgram.Opaque([7, 8, 9])));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 0, 3, 0x07080900 }, Words(reply!));
    }

    [Fact]
    public async Task Unknown_program_is_prog_unavail()
    {
        var reply = await Dispatch(Call(0, prog: 0x3000_0000));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 1 }, Words(reply!));
        Assert.Contains("PROG_UNAVAIL", _observer.Refused);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(5u)]
    public async Task Version_out_of_range_is_prog_mismatch_with_the_program_range(uint vers)
    {
        var reply = await Dispatch(Call(0, vers: vers));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 2, 2, 4 }, Words(reply!));
    }

    [Fact]
    public async Task Unknown_procedure_is_proc_unavail()
    {
        var reply = await Dispatch(Call(99));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 3 }, Words(reply!));
    }

    [Theory]
    [InlineData(TestProgram.ThrowXdrSync)]
    [InlineData(TestProgram.ThrowXdrAsync)]
    [InlineData(TestProgram.Echo)] // no args at all: the handler's reader runs off the end
    public async Task Xdr_exception_from_handler_is_garbage_args(uint proc)
    {
        var reply = await Dispatch(Call(proc));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 4 }, Words(reply!));
    }

    [Fact]
    public async Task Other_exception_is_system_err_and_logged()
    {
        var reply = await Dispatch(Call(TestProgram.ThrowOther));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 5 }, Words(reply!));
        var entry = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Contains("THROW_OTHER", entry.Message);
    }

    [Fact]
    public async Task Results_written_before_a_failure_status_are_dropped()
    {
        var reply = await Dispatch(Call(TestProgram.WritesThenFails));
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 4 }, Words(reply!));
    }

    [Fact]
    public async Task Header_truncated_after_the_xid_is_garbage_args()
    {
        var full = Call(TestProgram.Null);
        for (int cut = 12; cut < full.Length; cut++)
        {
            var reply = await Dispatch(full[..cut]);
            Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 4 }, Words(reply!));
        }
    }

    [Fact]
    public async Task Short_records_and_replies_get_no_answer()
    {
        Assert.Null(await Dispatch([]));
        Assert.Null(await Dispatch([0, 0, 0, 1, 0, 0, 0]));
        var notACall = Call(TestProgram.Null);
        notACall[7] = 1; // msg_type REPLY
        Assert.Null(await Dispatch(notACall));
    }

    [Fact]
    public async Task Observer_sees_each_completed_call()
    {
        await Dispatch(Call(TestProgram.Null, xid: 5));
        await Dispatch(Call(TestProgram.ThrowXdrSync, xid: 6));
        Assert.Equal([(5u, "NULL", AcceptStat.SUCCESS, 24, false), (6u, "THROW_XDR_SYNC", AcceptStat.GARBAGE_ARGS, 24, false)], _observer.Completed);
    }

    [Fact]
    public async Task Runs_without_observer_or_logger()
    {
        var d = new RpcDispatcher();
        d.Register(new TestProgram());
        var reply = await Dispatch(Call(TestProgram.ThrowOther), d);
        Assert.Equal(5u, Words(reply!)[5]);
    }

    [Fact]
    public void Program_number_registers_once()
    {
        Assert.Throws<InvalidOperationException>(() => _dispatcher.Register(new TestProgram()));
    }

    [Fact]
    public async Task Args_are_the_bytes_after_the_verifier()
    {
        // AUTH_SYS credential and a non-empty verifier both precede the args.
        var record = CallWithCred((uint)AuthFlavor.AUTH_SYS, AuthSysBody(), 0, [1, 2, 3, 4]);
        record[23] = (byte)TestProgram.Echo;
        var withArgs = record.Concat(TestProgram.Opaque([42])).ToArray();
        var reply = await Dispatch(withArgs);
        Assert.Equal(new uint[] { 0x11223344, 1, 0, 0, 0, 0, 1, 0x2A000000 }, Words(reply!));
    }
}

public sealed class CapturingLogger : ILogger<RpcDispatcher>
{
    public readonly List<(LogLevel Level, Exception? Exception, string Message)> Entries = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries) Entries.Add((logLevel, exception, formatter(state, exception)));
    }
}
