using System.Text;
using NfsGate.Metadata.RocksDb;

// Child process for the kill -9 test in NfsGate.Metadata.Tests (Kv/RocksKvCrashTests.cs).
// Usage: NfsGate.KvCrashHelper <db-dir> durable|fast
// Commits transactions 1, 2, 3, ... forever; transaction i writes key "n/{i:D10}", increments "count" and moves one
// unit from counter "a" to counter "b". After each commit returns it prints i. The parent kills it with SIGKILL at
// an arbitrary moment and checks that every printed number survived and that the invariants hold:
// the n/ keys are exactly 1..count, b == count and a + b == 0.
if (args.Length != 2 || (args[1] != "durable" && args[1] != "fast"))
{
    Console.Error.WriteLine("usage: NfsGate.KvCrashHelper <db-dir> durable|fast");
    return 2;
}
bool durable = args[1] == "durable";
using var store = new RocksKvStore(args[0], new RocksKvOptions { WriteBufferBytes = 256 << 10 });
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
// Continue numbering after what a previous (killed) run left, so the test can also run the helper twice.
long next = store.Read(r => r.Get("count"u8) is { Length: 8 } c ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(c) : 0) + 1;
var filler = new byte[200];
for (long i = next; ; i++)
{
    store.Transact(t =>
    {
        t.Set(Encoding.ASCII.GetBytes($"n/{i:D10}"), filler);
        t.IncrementBy("count"u8, 1);
        t.IncrementBy("a"u8, -1);
        t.IncrementBy("b"u8, 1);
        return 0;
    }, durable);
    stdout.WriteLine(i);
}
