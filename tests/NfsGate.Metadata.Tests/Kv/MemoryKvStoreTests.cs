using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata.Tests.Kv;

public sealed class MemoryKvStoreTests : KvStoreContract
{
    protected override IKvStore Create() => new MemoryKvStore();
}
