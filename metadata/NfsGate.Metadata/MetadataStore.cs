using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NfsGate.Metadata.Kv;

namespace NfsGate.Metadata;

/// <summary>
/// The deployment's metadata over one <see cref="IKvStore"/> (key schema: <see cref="Keys"/>).
/// Volumes are cached after their first open, so OpenVolume is a dictionary lookup on later calls.
/// </summary>
public sealed class MetadataStore(IKvStore kv, ILogger? logger = null) : IMetadataStore
{
    /// <summary>Export names are configuration, not wire data, but a cap keeps keys sane.</summary>
    public const int MaxExportNameBytes = 1024;
    public const int SecretLength = 32;

    private readonly ConcurrentDictionary<uint, VolumeMeta> _volumes = new();

    public IKvStore Kv => kv;

    public IVolumeMeta OpenVolume(uint volumeId)
    {
        if (_volumes.TryGetValue(volumeId, out var v)) return v;
        var vol = new VolumeMeta(kv, volumeId, logger);
        vol.EnsureRoot();
        return _volumes.GetOrAdd(volumeId, vol);
    }

    public uint GetOrCreateVolumeId(string exportName)
    {
        ArgumentNullException.ThrowIfNull(exportName);
        if (System.Text.Encoding.UTF8.GetByteCount(exportName) > MaxExportNameBytes)
            throw new ArgumentException($"export name longer than {MaxExportNameBytes} bytes", nameof(exportName));
        var key = Keys.Export(exportName);
        var existing = kv.Read(r => r.Get(key));
        if (existing is not null) return Codec.DecodeU32(existing);
        return kv.Transact(t =>
        {
            var v = t.Get(key);
            if (v is not null) return Codec.DecodeU32(v);
            uint id = checked((uint)t.IncrementBy(Keys.NextVolume, 1));
            t.Set(key, Codec.EncodeU32(id));
            return id;
        }, durable: true);
    }

    public byte[] GetOrCreateSecret()
    {
        var existing = kv.Read(r => r.Get(Keys.Secret));
        if (existing is not null) return DecodeSecret(existing);
        var fresh = new byte[1 + SecretLength];
        fresh[0] = Codec.Version;
        RandomNumberGenerator.Fill(fresh.AsSpan(1));
        // Another node may have raced us: whichever commits first wins, and everyone returns the stored one.
        var stored = kv.Transact(t =>
        {
            var v = t.Get(Keys.Secret);
            if (v is not null) return v;
            t.Set(Keys.Secret, fresh);
            return fresh;
        }, durable: true);
        return DecodeSecret(stored);
    }

    public ulong NewSliceIds(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long last = kv.Transact(t => t.IncrementBy(Keys.NextSlice, count));
        return (ulong)(last - count + 1);
    }

    public IReadOnlyList<DeadSlice> PendingDeletes(int max)
    {
        if (max < 1) return [];
        var page = kv.Read(r => r.Scan(Keys.DeleteQueueStart, Keys.DeleteQueueEnd, max));
        var result = new DeadSlice[page.Count];
        for (int i = 0; i < page.Count; i++)
            result[i] = new DeadSlice(Keys.SliceIdOfDeleteQueue(page[i].Key), Codec.DecodeU32(page[i].Value));
        return result;
    }

    public void AckDeletes(IReadOnlyList<DeadSlice> done)
    {
        if (done.Count == 0) return;
        kv.Transact(t =>
        {
            for (int i = 0; i < done.Count; i++)
            {
                var index = Keys.DeleteIndex(done[i].Id);
                var v = t.Get(index);
                if (v is null) continue; // acknowledged twice: already gone
                t.Delete(Keys.DeleteQueue(Codec.DecodeU64(v), done[i].Id));
                t.Delete(index);
                if (Slice.IsInlineId(done[i].Id)) t.Delete(Keys.InlineData(done[i].Id));
            }
            return 0;
        });
    }

    public bool ReadInline(ulong id, uint offset, Span<byte> dest)
    {
        var v = kv.Read(r => r.Get(Keys.InlineData(id)));
        if (v is null || !Codec.TryInlineBytes(v, out var bytes) || (long)offset + dest.Length > bytes.Length) return false;
        bytes.Slice((int)offset, dest.Length).CopyTo(dest);
        return true;
    }

    public IReadOnlyList<InlineRow> InlineRows(int max)
    {
        if (max < 1) return [];
        var page = kv.Read(r => r.Scan(Keys.InlineDataStart, Keys.InlineDataEnd, max));
        var rows = new List<InlineRow>(page.Count);
        foreach (var (key, value) in page)
        {
            try { rows.Add(Codec.DecodeInlineRow(Keys.SliceIdOfInlineData(key), value)); }
            catch (InvalidDataException) { } // fsck reports a malformed row; the sweep has nothing to act on
        }
        return rows;
    }

    /// <summary>The store owns the engine it was given and disposes it.</summary>
    public void Dispose() => kv.Dispose();

    private static byte[] DecodeSecret(byte[] v)
    {
        if (v.Length != 1 + SecretLength || v[0] != Codec.Version) throw new InvalidDataException("stored secret is malformed");
        return v.AsSpan(1).ToArray();
    }
}
