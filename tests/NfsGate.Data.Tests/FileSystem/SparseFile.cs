namespace NfsGate.Data.Tests.FileSystem;

/// <summary>The model a file is compared with: bytes in 64 KiB pages (absent = zeros), and a size.</summary>
internal sealed class SparseFile
{
    private const int Page = 64 << 10;
    private readonly Dictionary<long, byte[]> _pages = [];
    public ulong Size { get; private set; }

    public void Write(long off, ReadOnlySpan<byte> data)
    {
        Size = Math.Max(Size, (ulong)(off + data.Length));
        while (!data.IsEmpty)
        {
            long p = off / Page;
            int inPage = (int)(off % Page), n = Math.Min(data.Length, Page - inPage);
            if (!_pages.TryGetValue(p, out var page)) _pages[p] = page = new byte[Page];
            data[..n].CopyTo(page.AsSpan(inPage));
            off += n;
            data = data[n..];
        }
    }

    public void Truncate(ulong size)
    {
        if (size < Size)
        {
            foreach (var (p, page) in _pages)
            {
                long start = p * Page;
                if (start + Page <= (long)size) continue;
                int from = (int)Math.Max(0, (long)size - start);
                page.AsSpan(from).Clear();
            }
        }
        Size = size;
    }

    public byte[] Read(long off, int count)
    {
        long n = Math.Max(0, Math.Min(count, (long)Size - off));
        var result = new byte[n];
        for (long i = 0; i < n;)
        {
            long pos = off + i, p = pos / Page;
            int inPage = (int)(pos % Page), len = (int)Math.Min(n - i, Page - inPage);
            if (_pages.TryGetValue(p, out var page)) page.AsSpan(inPage, len).CopyTo(result.AsSpan((int)i));
            i += len;
        }
        return result;
    }
}
