namespace NfsGate.Data;

/// <summary>
/// Per-object hints for <see cref="IObjectStore.PutAsync(string, ReadOnlyMemory{byte}, ObjectPutOptions, CancellationToken)"/>,
/// e.g. the storage class of one export's cold data. A store acts on the hints it understands (S3) and ignores the
/// rest (a local directory has no classes); a decorator must pass them on unchanged (ObjectPutHintTests checks every
/// decorator in the product).
/// </summary>
public sealed record ObjectPutOptions
{
    /// <summary>No hints: the store's own defaults (e.g. <c>objectStore.storageClass</c>).</summary>
    public static readonly ObjectPutOptions Default = new();

    /// <summary>S3 storage class for this object (one of <see cref="StorageClasses"/>); null = the store's default.</summary>
    public string? StorageClass { get; init; }

    /// <summary>
    /// The S3 storage classes a hint may name: every class AWS S3 serves reads from without a restore. GLACIER and
    /// DEEP_ARCHIVE are left out on purpose: their objects need a restore before every GET, so NFS READs would fail.
    /// A server that does not define a class (Ceph RGW without it in the zonegroup placement) rejects the PUT.
    /// </summary>
    public static readonly IReadOnlySet<string> StorageClasses = new HashSet<string>(StringComparer.Ordinal)
    {
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "EXPRESS_ONEZONE",
    };

    /// <summary>Options with <paramref name="storageClass"/> (null gives <see cref="Default"/>); throws on a class not in <see cref="StorageClasses"/>.</summary>
    public static ObjectPutOptions WithStorageClass(string? storageClass)
    {
        if (storageClass is null) return Default;
        if (!StorageClasses.Contains(storageClass))
            throw new ArgumentException($"unknown S3 storage class \"{storageClass}\" (expected one of {string.Join(", ", StorageClasses)})", nameof(storageClass));
        return new ObjectPutOptions { StorageClass = storageClass };
    }
}
