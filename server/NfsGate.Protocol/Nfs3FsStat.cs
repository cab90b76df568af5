namespace NfsGate.Protocol;

/*
   Procedure 18: FSSTAT - Get dynamic file system information

   FSSTAT3res NFSPROC3_FSSTAT(FSSTAT3args) = 18;

   struct FSSTAT3args {
        nfs_fh3   fsroot;
   };

   struct FSSTAT3resok {
        post_op_attr obj_attributes;
        size3        tbytes;
        size3        fbytes;
        size3        abytes;
        size3        tfiles;
        size3        ffiles;
        size3        afiles;
        uint32       invarsec;
   };

   struct FSSTAT3resfail {
        post_op_attr obj_attributes;
   };

   union FSSTAT3res switch (nfsstat3 status) {
   case NFS3_OK:
        FSSTAT3resok   resok;
   default:
        FSSTAT3resfail resfail;
   };
*/
internal static class Nfs3FsStat
{
    public static ValueTask Handle(Nfs3Request q, CancellationToken ct)
    {
        var usage = q.Vol.Usage();
        var o = q.Options;
        ulong tbytes, fbytes;
        if (o.Capacity is { } capacity)
        {
            // A store with a real size (local disk): its own numbers; used bytes of other tenants of the disk count too.
            var (total, available) = capacity();
            tbytes = total;
            fbytes = Math.Min(available, total);
        }
        else
        {
            // Object storage has no fixed size: report the configured capacity, never less than what is used.
            tbytes = Math.Max(o.TotalBytes, usage.UsedBytes);
            fbytes = tbytes - usage.UsedBytes;
        }
        ulong tfiles = Math.Max(o.TotalFiles, usage.Inodes);
        ulong ffiles = tfiles - usage.Inodes;
        if (q.Export.Quota is { } quota)
        {
            if (q.Export.QuotaUsage is { } quotaUsage) usage = quotaUsage();
            // The team's quota is its file system: df on the client shows the quota as size and the export's own use,
            // and never more free space than the store itself has.
            if (quota.Bytes != 0)
            {
                ulong free = quota.Bytes > usage.UsedBytes ? quota.Bytes - usage.UsedBytes : 0;
                fbytes = Math.Min(fbytes, free);
                tbytes = quota.Bytes;
            }
            if (quota.Inodes != 0)
            {
                tfiles = quota.Inodes;
                ffiles = quota.Inodes > usage.Inodes ? quota.Inodes - usage.Inodes : 0;
            }
        }
        var w = q.W;
        q.Status(NfsStat3.NFS3_OK);
        q.PostOp(q.Attr);
        w.WriteUInt64(tbytes);
        w.WriteUInt64(fbytes);
        w.WriteUInt64(fbytes);
        w.WriteUInt64(tfiles);
        w.WriteUInt64(ffiles);
        w.WriteUInt64(ffiles);
        w.WriteUInt32(0); // invarsec: the numbers change all the time
        return ValueTask.CompletedTask;
    }
}
