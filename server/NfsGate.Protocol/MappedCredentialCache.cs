using System.Runtime.CompilerServices;
using NfsGate.Metadata;
using NfsGate.Rpc;

namespace NfsGate.Protocol;

/// <summary>
/// Recently mapped credentials: (the RPC credential object, the client decision) → the <see cref="Credential"/> the
/// permission checks see, so a LOOKUP or ACCESS does not allocate one per call. The RPC layer hands out the same
/// <see cref="RpcCredential"/> object for the same AUTH_SYS body (its own cache), which makes the object's identity a
/// cheap key. Direct-mapped, one table per thread (so no lock, and no other thread's calls evict an entry between a
/// lookup and its use); a hit needs that very object and an equal decision, so it returns what
/// <see cref="ClientDecision.MapUncached"/> would. A miss (another client in the slot, a credential the RPC cache let
/// go) only maps again. 256 slots of a small entry per pool thread is a few KiB each.
/// </summary>
internal static class MappedCredentialCache
{
    private const int Slots = 256;
    [ThreadStatic] private static Entry?[]? t_slots;

    private sealed class Entry(RpcCredential source, ClientDecision decision, Credential mapped)
    {
        public readonly RpcCredential Source = source;
        public readonly ClientDecision Decision = decision;
        public readonly Credential Mapped = mapped;
    }

    public static Credential Map(in ClientDecision decision, RpcCredential c)
    {
        int slot = (RuntimeHelpers.GetHashCode(c) ^ (int)decision.Squash * 31 ^ (int)decision.AnonUid) & (Slots - 1);
        var slots = t_slots ??= new Entry?[Slots];
        var e = slots[slot];
        if (e is not null && ReferenceEquals(e.Source, c) && e.Decision == decision) return e.Mapped;
        var mapped = decision.MapUncached(c);
        slots[slot] = new Entry(c, decision, mapped);
        return mapped;
    }
}
