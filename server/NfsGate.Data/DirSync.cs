using System.ComponentModel;
using System.Runtime.InteropServices;

namespace NfsGate.Data;

/// <summary>
/// fsync of a directory, which makes a create/rename inside it durable. .NET cannot open a directory as a file
/// handle, so this goes to libc directly (Linux / macOS).
/// </summary>
public static partial class DirSync
{
    private const int O_RDONLY = 0;
    private const int EINTR = 4;

    public static void Fsync(string dir)
    {
        int fd;
        do { fd = Open(dir, O_RDONLY); } while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        if (fd < 0) throw new IOException($"open directory {dir}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        try
        {
            int rc;
            do { rc = FsyncFd(fd); } while (rc < 0 && Marshal.GetLastPInvokeError() == EINTR);
            if (rc < 0) throw new IOException($"fsync directory {dir}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }
        finally
        {
            Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncFd(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
