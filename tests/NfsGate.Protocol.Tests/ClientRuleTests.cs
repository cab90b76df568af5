using System.Net;
using NfsGate.Rpc;

namespace NfsGate.Protocol.Tests;

/// <summary>Rule matching and squash, without a server: every case of exports[].clients.</summary>
public class ClientRuleTests
{
    static Export With(params ClientRule[] rules) => new(1, "x", "/x", false, null!) { Clients = rules };
    static IPEndPoint At(string ip, int port = 40000) => new(IPAddress.Parse(ip), port);
    static readonly RpcCredential RootCred = new(AuthFlavor.AUTH_SYS, 0, 0, [0, 5], "h");
    static readonly RpcCredential UserCred = new(AuthFlavor.AUTH_SYS, 1000, 1000, [0, 27], "h");

    [Theory]
    [InlineData("*", "10.9.8.7", true)]
    [InlineData("*", "::1", true)]
    [InlineData("10.1.0.0/16", "10.1.255.3", true)]
    [InlineData("10.1.0.0/16", "10.2.0.1", false)]
    [InlineData("127.0.0.2", "127.0.0.2", true)]
    [InlineData("127.0.0.2", "127.0.0.3", false)]
    [InlineData("fd00::/8", "fd12::1", true)]
    [InlineData("fd00::/8", "10.0.0.1", false)]
    [InlineData("::1", "::1", true)]
    public void Match_covers_cidrs_addresses_and_star(string match, string client, bool expected)
    {
        Assert.Equal(expected, new ClientRule { Match = match }.Matches(IPAddress.Parse(client)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.1.0.0/33")]
    [InlineData("10.1.2.3/16")] // host bits set: almost always a typo for a narrower or wider network
    [InlineData("host.example")]
    [InlineData("@netgroup")]
    public void Bad_matches_are_refused(string match)
    {
        Assert.False(ClientRule.TryParseMatch(match, out _));
        Assert.Throws<ArgumentException>(() => new ClientRule { Match = match });
    }

    [Fact]
    public void First_matching_rule_wins()
    {
        var e = With(
            new ClientRule { Match = "127.0.0.2", Access = ExportAccess.ReadOnly },
            new ClientRule { Match = "127.0.0.0/8", Access = ExportAccess.ReadWrite });
        Assert.Equal(ExportAccess.ReadOnly, e.Decide(At("127.0.0.2")).Access);
        Assert.Equal(ExportAccess.ReadWrite, e.Decide(At("127.0.0.3")).Access);
    }

    [Fact]
    public void A_none_rule_denies_even_if_a_later_rule_allows()
    {
        var e = With(
            new ClientRule { Match = "127.0.0.4", Access = ExportAccess.None },
            new ClientRule { Match = "*" });
        Assert.Equal(ExportAccess.None, e.Decide(At("127.0.0.4")).Access);
        Assert.Equal(ExportAccess.ReadWrite, e.Decide(At("127.0.0.5")).Access);
    }

    [Fact]
    public void No_matching_rule_means_no_access_and_no_rules_means_open()
    {
        Assert.Equal(ExportAccess.None, With(new ClientRule { Match = "10.0.0.0/8" }).Decide(At("127.0.0.1")).Access);
        Assert.Equal(ExportAccess.None, With().Decide(At("127.0.0.1")).Access);
        var open = new Export(1, "x", "/x", false, null!).Decide(At("192.0.2.1"));
        Assert.Equal((ExportAccess.ReadWrite, SquashMode.None), (open.Access, open.Squash));
    }

    [Fact]
    public void Ipv4_mapped_clients_match_ipv4_rules()
    {
        var e = With(new ClientRule { Match = "127.0.0.0/8" });
        Assert.Equal(ExportAccess.ReadWrite, e.Decide(new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.9"), 40000)).Access);
    }

    [Fact]
    public void Privileged_port_rule_refuses_high_source_ports()
    {
        var e = With(new ClientRule { Match = "*", RequirePrivilegedPort = true });
        Assert.Equal(ExportAccess.ReadWrite, e.Decide(At("127.0.0.1", 1023)).Access);
        Assert.Equal(ExportAccess.None, e.Decide(At("127.0.0.1", 1024)).Access);
        Assert.Equal(ExportAccess.ReadWrite, With(new ClientRule { Match = "*" }).Decide(At("127.0.0.1", 50000)).Access);
    }

    [Fact]
    public void Root_squash_maps_root_and_group_zero_only()
    {
        var d = With(new ClientRule { Match = "*", Squash = SquashMode.Root, AnonUid = 65534, AnonGid = 65533 }).Decide(At("127.0.0.1"));
        var root = d.Map(RootCred);
        Assert.Equal((65534u, 65533u), (root.Uid, root.Gid));
        Assert.Equal([5u], root.Groups);
        var user = d.Map(UserCred);
        Assert.Equal((1000u, 1000u), (user.Uid, user.Gid));
        Assert.Equal([27u], user.Groups); // group 0 would still give root's group rights
    }

    [Fact]
    public void All_squash_maps_everyone_and_drops_groups()
    {
        var d = With(new ClientRule { Match = "*", Squash = SquashMode.All, AnonUid = 7, AnonGid = 8 }).Decide(At("127.0.0.1"));
        var user = d.Map(UserCred);
        Assert.Equal((7u, 8u), (user.Uid, user.Gid));
        Assert.Empty(user.Groups);
    }

    [Fact]
    public void No_squash_keeps_root()
    {
        var d = With(new ClientRule { Match = "*", Squash = SquashMode.None }).Decide(At("127.0.0.1"));
        Assert.True(d.Map(RootCred).IsRoot);
    }

    [Fact]
    public void A_clients_calls_share_one_mapped_credential_per_decision()
    {
        var squash = With(new ClientRule { Match = "*", Squash = SquashMode.Root, AnonUid = 41, AnonGid = 42 }).Decide(At("127.0.0.1"));
        var open = With(new ClientRule { Match = "*", Squash = SquashMode.None }).Decide(At("127.0.0.1"));
        var other = With(new ClientRule { Match = "*", Squash = SquashMode.Root, AnonUid = 43, AnonGid = 44 }).Decide(At("127.0.0.1"));
        var cred = new RpcCredential(AuthFlavor.AUTH_SYS, 0, 0, [0, 9], "h");

        var first = squash.Map(cred);
        Assert.Same(first, squash.Map(cred)); // the same client's next call: no new credential
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) squash.Map(cred);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        // The same RPC credential under another decision is mapped by that decision, before and after.
        Assert.True(open.Map(cred).IsRoot);
        Assert.Equal((43u, 44u), (other.Map(cred).Uid, other.Map(cred).Gid));
        // Only the anonymous gid differs (decisions that can share a cache slot): still mapped apart.
        var otherGid = With(new ClientRule { Match = "*", Squash = SquashMode.Root, AnonUid = 41, AnonGid = 50 }).Decide(At("127.0.0.1"));
        Assert.Equal((41u, 50u), (otherGid.Map(cred).Uid, otherGid.Map(cred).Gid));
        Assert.Equal((41u, 42u), (squash.Map(cred).Uid, squash.Map(cred).Gid));
        Assert.Equal([9u], squash.Map(cred).Groups);
        // An equal credential in another object maps alike.
        var twin = squash.Map(new RpcCredential(AuthFlavor.AUTH_SYS, 0, 0, [0, 9], "h"));
        Assert.Equal((41u, 42u), (twin.Uid, twin.Gid));
        Assert.Equal([9u], twin.Groups);
    }

    [Fact]
    public void Default_rule_is_rw_with_root_squash_to_nobody()
    {
        var r = new ClientRule { Match = "*" };
        Assert.Equal((ExportAccess.ReadWrite, SquashMode.Root, 65534u, 65534u, false), (r.Access, r.Squash, r.AnonUid, r.AnonGid, r.RequirePrivilegedPort));
    }

    [Fact]
    public void Export_lists_the_matches_that_grant_access()
    {
        var e = With(new ClientRule { Match = "10.0.0.0/8" }, new ClientRule { Match = "10.9.0.0/16", Access = ExportAccess.None },
            new ClientRule { Match = "*", Access = ExportAccess.ReadOnly });
        Assert.Equal(["10.0.0.0/8", "*"], e.ListedGroups);
    }
}
