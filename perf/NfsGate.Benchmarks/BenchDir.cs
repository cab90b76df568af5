namespace NfsGate.Benchmarks;

/// <summary>A fresh directory under the temp path for one benchmark's state; its class deletes it in GlobalCleanup.</summary>
internal static class BenchDir
{
    public static string Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nfsgate-bdn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
