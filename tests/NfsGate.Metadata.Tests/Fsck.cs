using NfsGate.Metadata.Kv;
using NfsGate.Metadata.Maintenance;

namespace NfsGate.Metadata.Tests;

/// <summary>
/// The product's metadata checker (<see cref="MetadataChecker"/>) over one volume, as the list of problem messages
/// the model and concurrency tests assert empty.
/// </summary>
public static class Fsck
{
    public static List<string> Check(IKvStore kv, uint vol) =>
        MetadataChecker.CheckVolume(kv, vol).Problems.Select(p => p.Message).ToList();
}

/// <summary>
/// Wraps an engine and makes some transactions throw part-way through the body, after some writes: stands in for a
/// crash in the middle of an operation. A correct operation is one transaction, so nothing of it may remain.
/// </summary>
public sealed class FaultyKv(IKvStore inner, int seed) : IKvStore
{
    private readonly Random _rnd = new(seed);
    public int Injected;
    public bool Enabled = true;

    public string Engine => inner.Engine;

    public T Transact<T>(Func<IKvTxn, T> body, bool durable = false)
    {
        int failAfter = Enabled && _rnd.Next(8) == 0 ? _rnd.Next(0, 8) : -1;
        return inner.Transact(t => body(failAfter < 0 ? t : new Txn(t, failAfter, this)), durable);
    }

    public T Read<T>(Func<IKvReader, T> body) => inner.Read(body);
    public void Sync() => inner.Sync();
    public IReadOnlyDictionary<string, double> Stats() => inner.Stats();
    public void Dispose() => inner.Dispose();

    public sealed class CrashException : Exception;

    private sealed class Txn(IKvTxn t, int failAfter, FaultyKv owner) : IKvTxn
    {
        private int _writes;

        private void Tick()
        {
            if (_writes++ == failAfter)
            {
                owner.Injected++;
                throw new CrashException();
            }
        }

        public byte[]? Get(ReadOnlySpan<byte> key) => t.Get(key);
        public IReadOnlyList<KeyValuePair<byte[], byte[]>> Scan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, int limit) => t.Scan(start, end, limit);
        public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) { Tick(); t.Set(key, value); }
        public void Delete(ReadOnlySpan<byte> key) { Tick(); t.Delete(key); }
        public long IncrementBy(ReadOnlySpan<byte> key, long delta) { Tick(); return t.IncrementBy(key, delta); }
    }
}
