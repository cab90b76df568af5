namespace NfsGate.Metadata;

/// <summary>
/// AUTH_SYS permission rules, as a local Linux file system applies them (the caller's uid/gid are trusted).
/// </summary>
public static class Permissions
{
    public const uint Read = 4, Write = 2, Exec = 1;
    public const uint SetUid = 0x800, SetGid = 0x400, Sticky = 0x200;
    public const uint AllBits = 0xFFF; // 07777

    /// <summary>
    /// May <paramref name="cred"/> do <paramref name="want"/> (a mix of Read/Write/Exec) on the object?
    /// One class applies (owner, else group incl. supplementary groups, else other) — an owner denied by the
    /// owner bits is denied even if "other" would allow, as in POSIX. Root bypasses read and write; for execute
    /// root needs some x bit, except on directories, which root may always search.
    /// </summary>
    public static bool Allows(Credential cred, in Attr a, uint want)
    {
        if (cred.IsRoot)
        {
            if ((want & Exec) == 0 || a.Type == FileType.Directory) return true;
            return (a.Mode & 0x49) != 0; // 0111
        }
        uint bits;
        if (cred.Uid == a.Uid) bits = (a.Mode >> 6) & 7;
        else if (cred.InGroup(a.Gid)) bits = (a.Mode >> 3) & 7;
        else bits = a.Mode & 7;
        return (bits & want) == want;
    }

    /// <summary>knfsd's owner override for READ/WRITE: the owner passes whatever the mode says (the file was opened before a chmod).</summary>
    public static bool AllowsWithOwnerOverride(Credential cred, in Attr a, uint want) =>
        cred.Uid == a.Uid || Allows(cred, a, want);

    /// <summary>Sticky directory: only the entry's owner, the directory's owner or root may remove or rename the entry.</summary>
    public static bool StickyAllows(Credential cred, in Attr dir, in Attr victim) =>
        (dir.Mode & Sticky) == 0 || cred.IsRoot || cred.Uid == dir.Uid || cred.Uid == victim.Uid;

    /// <summary>
    /// ACCESS3 from the mode bits. Read → r; Lookup and Execute → x; Modify and Extend → w.
    /// Delete → on a directory, w+x (the right to remove its entries); on anything else it is not granted,
    /// because deleting a non-directory is decided by its parent, which ACCESS does not name (Linux asks DELETE only on directories).
    /// </summary>
    public static AccessMask Access(Credential cred, in Attr a, AccessMask requested)
    {
        AccessMask granted = 0;
        bool isDir = a.Type == FileType.Directory;
        if ((requested & AccessMask.Read) != 0 && Allows(cred, a, Read)) granted |= AccessMask.Read;
        if ((requested & AccessMask.Lookup) != 0 && Allows(cred, a, Exec)) granted |= AccessMask.Lookup;
        if ((requested & AccessMask.Execute) != 0 && Allows(cred, a, Exec)) granted |= AccessMask.Execute;
        bool w = Allows(cred, a, Write);
        if ((requested & AccessMask.Modify) != 0 && w) granted |= AccessMask.Modify;
        if ((requested & AccessMask.Extend) != 0 && w) granted |= AccessMask.Extend;
        if ((requested & AccessMask.Delete) != 0 && isDir && Allows(cred, a, Write | Exec)) granted |= AccessMask.Delete;
        return granted;
    }
}
