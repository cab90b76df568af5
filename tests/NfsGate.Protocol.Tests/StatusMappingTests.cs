using NfsGate.Metadata;

namespace NfsGate.Protocol.Tests;

public class StatusMappingTests
{
    public static TheoryData<FsStatus> AllStatuses()
    {
        var d = new TheoryData<FsStatus>();
        foreach (var s in Enum.GetValues<FsStatus>()) d.Add(s);
        return d;
    }

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void Every_fs_status_maps_to_the_nfsstat3_with_the_same_number(FsStatus s)
    {
        var n = Nfs3Status.From(s);
        Assert.True(Enum.IsDefined(n), $"{s} maps to undefined {n}");
        Assert.Equal((uint)s, (uint)n);
    }

    [Fact]
    public void An_unknown_fs_status_is_a_server_fault()
    {
        Assert.Equal(NfsStat3.NFS3ERR_SERVERFAULT, Nfs3Status.From((FsStatus)12345));
    }

    [Fact]
    public void Ok_is_nfs3_ok()
    {
        Assert.Equal(NfsStat3.NFS3_OK, Nfs3Status.From(FsStatus.Ok));
    }
}
