using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests.Kv;

public sealed class MemoryKvStoreTests : KvStoreContract
{
    protected override IKvStore Create() => new MemoryKvStore();

    [Fact]
    public void Commits_are_local() => Assert.True(((IKvStore)new MemoryKvStore()).LocalCommits);
}
