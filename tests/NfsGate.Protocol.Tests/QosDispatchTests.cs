using System.Net;
using NfsGate.Protocol.Qos;
using NfsGate.Rpc;
using NfsGate.TestKit;

namespace NfsGate.Protocol.Tests;

/// <summary>
/// QoS in the NFS dispatcher over real loopback connections. The caps are so small (1 KiB/s against 64 KiB calls) that
/// a held call would wait a minute: whether a call is held or answered never depends on how fast this machine is.
/// </summary>
public sealed class QosDispatchTests : IAsyncLifetime
{
    const long KiB = 1024;
    ServerFixture _fixture = null!;
    readonly QosEngine _qos = new();

    public Task InitializeAsync()
    {
        _fixture = ServerFixture.Start();
        _fixture.Nfs.Qos = _qos;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _qos.Dispose();
        await _fixture.DisposeAsync();
    }

    async Task<(Nfs3Client Client, byte[] File, Export Export)> FileAsync(IPAddress? from = null)
    {
        var e = _fixture.AddExport();
        var c = new Nfs3Client(await RawRpcClient.ConnectAsync(_fixture.EndPoint, from));
        var root = await c.MountHandleAsync(e.Path);
        var created = await c.CreateAsync(root, "f");
        Assert.Equal(NfsStat3.NFS3_OK, created.Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(created.Handle!, 0, new byte[256 * KiB])).Status);
        return (c, created.Handle!, e);
    }

    static QosPolicy Cap(long? read = null, long? write = null, double maxDelaySeconds = 120) => new()
    {
        Export = new QosRates(ReadBytesPerSecond: read, WriteBytesPerSecond: write),
        MaxDelay = TimeSpan.FromSeconds(maxDelaySeconds),
    };

    static Task<RpcReplyMessage> RawRead(Nfs3Client c, byte[] fh, uint count) =>
        c.CallRawAsync(Nfs3Const.PROGRAM, Nfs3Const.VERSION, (uint)Nfs3Proc.READ, w => { w.WriteOpaque(fh); w.WriteUInt64(0); w.WriteUInt32(count); });

    [Fact]
    public async Task Past_the_max_delay_READ_gets_JUKEBOX_with_its_resfail_body()
    {
        var (c, fh, e) = await FileAsync();
        _qos.Set(e.Name, Cap(read: KiB, maxDelaySeconds: 0.05));
        Assert.Equal(NfsStat3.NFS3_OK, (await c.ReadAsync(fh, 0, (uint)(64 * KiB))).Status); // the burst, then 63 s of debt
        var reply = await RawRead(c, fh, (uint)(64 * KiB));
        Assert.True(reply.IsSuccess);
        // READ3resfail: nfsstat3 then post_op_attr with attributes_follow = FALSE.
        Assert.Equal(new byte[] { 0, 0, 0x27, 0x18, 0, 0, 0, 0 }, reply.Results);
        Assert.Equal(1, _qos.Stats(e.Name).Rejected);
        await c.DisposeAsync();
    }

    [Fact]
    public async Task Past_the_max_delay_WRITE_gets_JUKEBOX_with_its_wcc_body()
    {
        var (c, fh, e) = await FileAsync();
        _qos.Set(e.Name, Cap(write: KiB, maxDelaySeconds: 0.05));
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(fh, 0, new byte[64 * KiB])).Status);
        var reply = await c.CallRawAsync(Nfs3Const.PROGRAM, Nfs3Const.VERSION, (uint)Nfs3Proc.WRITE, w =>
        {
            w.WriteOpaque(fh);
            w.WriteUInt64(0);
            w.WriteUInt32(4);
            w.WriteUInt32((uint)StableHow3.FILE_SYNC);
            w.WriteOpaque(new byte[4]);
        });
        // WRITE3resfail: nfsstat3 then wcc_data (pre_op_attr FALSE, post_op_attr FALSE).
        Assert.Equal(new byte[] { 0, 0, 0x27, 0x18, 0, 0, 0, 0, 0, 0, 0, 0 }, reply.Results);
        // Reads are not charged to the write cap.
        Assert.Equal(NfsStat3.NFS3_OK, (await c.ReadAsync(fh, 0, (uint)(64 * KiB))).Status);
        await c.DisposeAsync();
    }

    [Fact]
    public async Task A_held_call_does_not_stop_the_connection_from_serving_the_next_ones()
    {
        var (c, fh, e) = await FileAsync();
        _qos.Set(e.Name, Cap(read: KiB));
        Assert.Equal(NfsStat3.NFS3_OK, (await c.ReadAsync(fh, 0, (uint)(64 * KiB))).Status);
        var held = RawRead(c, fh, (uint)(64 * KiB));
        await WaitUntilAsync(() => _qos.Stats(e.Name).Waiting == 1);
        // Same connection: metadata calls and writes go through while the READ waits for read tokens.
        Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(fh)).Status);
        Assert.Equal(NfsStat3.NFS3_OK, (await c.WriteAsync(fh, 0, new byte[4 * KiB])).Status);
        Assert.False(held.IsCompleted);
        _qos.Set(e.Name, QosPolicy.None); // lifting the cap releases it at once
        var reply = await held.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0u, (uint)reply.Results[3]);
        Assert.Equal(NfsStat3.NFS3_OK, (NfsStat3)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.Results));
        await c.DisposeAsync();
    }

    [Fact]
    public async Task A_client_rule_holds_back_the_matching_source_address_only()
    {
        var (c2, fh, e) = await FileAsync(IPAddress.Parse("127.0.0.2"));
        var c3 = new Nfs3Client(await RawRpcClient.ConnectAsync(_fixture.EndPoint, IPAddress.Parse("127.0.0.3")));
        await c3.MountHandleAsync(e.Path);
        _qos.Set(e.Name, new QosPolicy
        {
            Clients = [new QosClientRule("127.0.0.2/32", new QosRates(ReadBytesPerSecond: KiB))],
            MaxDelay = TimeSpan.FromSeconds(120),
        });
        Assert.Equal(NfsStat3.NFS3_OK, (await c2.ReadAsync(fh, 0, (uint)(64 * KiB))).Status);
        var held = RawRead(c2, fh, (uint)(64 * KiB));
        await WaitUntilAsync(() => _qos.Stats(e.Name).Waiting == 1);
        for (int i = 0; i < 4; i++)
            Assert.Equal(NfsStat3.NFS3_OK, (await c3.ReadAsync(fh, 0, (uint)(64 * KiB))).Status);
        Assert.False(held.IsCompleted);
        _qos.Set(e.Name, QosPolicy.None);
        await held.WaitAsync(TimeSpan.FromSeconds(30));
        await c2.DisposeAsync();
        await c3.DisposeAsync();
    }

    [Fact]
    public async Task The_ops_cap_applies_to_metadata_calls()
    {
        var (c, fh, e) = await FileAsync();
        _qos.Set(e.Name, new QosPolicy { Export = new QosRates(OpsPerSecond: 1, Burst: TimeSpan.FromSeconds(1)), MaxDelay = TimeSpan.FromMilliseconds(50) });
        Assert.Equal(NfsStat3.NFS3_OK, (await c.GetAttrAsync(fh)).Status);
        // One operation per second and the burst spent: a call may still start on the sliver of a token earned
        // since (the bucket lends it the rest), but then the next waits about a second, past the 50 ms maximum.
        // Sent together, so a slow machine between two round trips cannot refill the bucket (a CI run on a loaded
        // machine once got two NFS3_OKs from two calls in a row).
        var statuses = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ => (await c.GetAttrAsync(fh)).Status));
        Assert.Contains(NfsStat3.NFS3ERR_JUKEBOX, statuses);
        await c.DisposeAsync();
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 30 s");
            await Task.Delay(10);
        }
    }
}
