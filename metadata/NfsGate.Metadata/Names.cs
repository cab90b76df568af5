using System.Text;

namespace NfsGate.Metadata;

/// <summary>
/// Rules for names. Chosen behaviours (documented here because RFC 1813 leaves them open):
/// <list type="bullet">
/// <item>Creating (CREATE/MKDIR/SYMLINK/MKNOD/LINK, rename target) "." or "..": Exist — they always exist,
///   which is what mkdir(".") gives locally.</item>
/// <item>Removing or renaming "." or "..", or using them as a rename target: Inval (rmdir(".") is EINVAL).</item>
/// <item>Empty name, or one containing '/' or NUL: Inval (what knfsd answers for '/').</item>
/// <item>More than <see cref="MaxNameBytes"/> UTF-8 bytes: NameTooLong, for lookups too.</item>
/// </list>
/// </summary>
public static class Names
{
    public const int MaxNameBytes = 255;
    /// <summary>PATH_MAX: a symlink target longer than this could never be followed by a Linux client.</summary>
    public const int MaxSymlinkBytes = 4096;

    public static bool IsDotOrDotDot(string name) => name == "." || name == "..";

    /// <summary>Checks a name that is about to be created. Ok, Exist ("." / ".."), Inval or NameTooLong.</summary>
    public static FsStatus CheckNew(string name)
    {
        if (IsDotOrDotDot(name)) return FsStatus.Exist;
        return CheckPlain(name);
    }

    /// <summary>Checks a name that is about to be removed or renamed: Ok, Inval or NameTooLong.</summary>
    public static FsStatus CheckExisting(string name)
    {
        if (IsDotOrDotDot(name)) return FsStatus.Inval;
        return CheckPlain(name);
    }

    /// <summary>Lookup: only the length is an error; any other bad name simply does not exist.</summary>
    public static FsStatus CheckLookup(string name) =>
        name.Length > MaxNameBytes / 3 && Encoding.UTF8.GetByteCount(name) > MaxNameBytes ? FsStatus.NameTooLong : FsStatus.Ok;

    private static FsStatus CheckPlain(string name)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny('/', '\0') >= 0) return FsStatus.Inval;
        // A UTF-16 char is at most 3 UTF-8 bytes, so short names skip the count.
        if (name.Length > MaxNameBytes / 3 && Encoding.UTF8.GetByteCount(name) > MaxNameBytes) return FsStatus.NameTooLong;
        return FsStatus.Ok;
    }
}
