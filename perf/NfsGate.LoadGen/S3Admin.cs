using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace NfsGate.LoadGen;

/// <summary>The S3 client the tools share (the settings nfsgate's S3ObjectStore uses), and bucket housekeeping.</summary>
internal static class S3Admin
{
    public static AmazonS3Client Client(Args a, int conns = 16) => new(
        new BasicAWSCredentials(a.Str("access-key"), a.Str("secret-key")),
        new AmazonS3Config
        {
            ServiceURL = a.Str("endpoint"),
            AuthenticationRegion = a.Str("region", "us-east-1"),
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxConnectionsPerServer = Math.Max(conns, 16),
        });

    public static async Task<List<string>> ListAsync(IAmazonS3 s3, string bucket, string prefix)
    {
        var keys = new List<string>();
        var list = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(list).ConfigureAwait(false);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            list.ContinuationToken = page.NextContinuationToken;
        } while (page.IsTruncated == true);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>s3clean: deletes every object of --bucket, then the bucket.</summary>
    public static async Task<int> CleanAsync(Args a)
    {
        using var s3 = Client(a);
        string bucket = a.Str("bucket");
        var keys = await ListAsync(s3, bucket, "").ConfigureAwait(false);
        foreach (var batch in keys.Chunk(1000))
            await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = batch.Select(k => new KeyVersion { Key = k }).ToList() }).ConfigureAwait(false);
        await s3.DeleteBucketAsync(bucket).ConfigureAwait(false);
        Report.Emit("s3clean", keys.Count, "objects");
        return 0;
    }
}
