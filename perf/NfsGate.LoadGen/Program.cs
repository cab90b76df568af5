using NfsGate.LoadGen;

// nfsgate-loadgen COMMAND --option value ...   (one JSON result line per measurement on stdout)
//   write    --nfs H:P [--mount H:P] [--path /] [--file hot] [--size 1G]          create a file of random bytes
//   mkfiles  --nfs H:P [--mount H:P] [--path /] [--dir big] [--count 100000]      a directory of empty files
//   rmfiles  --nfs H:P [--mount H:P] [--path /] [--dir big] [--count 10000] [--depth 1]   REMOVE what mkfiles made
//   ops      --nfs H:P [--mount H:P] [--path /] --op getattr|lookup [--conns 64] [--depth 4] [--seconds 10]
//   read     --nfs H:P [--mount H:P] [--path /] [--file hot] [--conns 16] [--depth 4] [--block 1M] [--seconds S] [--label L]
//   randwrite --nfs H:P [--mount H:P] [--path /] [--file hot] [--conns 1] [--depth 16] [--block 4096] [--seconds 5] [--stable file|unstable]
//   s3get    --endpoint URL --bucket B --access-key K --secret-key S --keys FILE [--conns 4] [--label L]
//   s3get    ... --save-keys FILE [--prefix P]   only list the bucket into FILE
//   s3clean  --endpoint URL --bucket B --access-key K --secret-key S   delete every object and the bucket
//   s3relay  --upstream H:P [--port 0]       counting TCP relay in front of S3 (see S3Relay.cs)
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: nfsgate-loadgen write|mkfiles|ops|read|randwrite|s3get|s3relay --option value ...");
    return 2;
}
var a = new Args(args.Skip(1));
return args[0] switch
{
    "write" => await Setup.WriteAsync(a),
    "mkfiles" => await Setup.MkFilesAsync(a),
    "rmfiles" => await Setup.RmFilesAsync(a),
    "ops" => await OpsLoad.RunAsync(a),
    "read" => await ReadLoad.RunAsync(a),
    "randwrite" => await RandWriteLoad.RunAsync(a),
    "s3get" => await S3Get.RunAsync(a),
    "s3relay" => await S3Relay.RunAsync(a),
    "s3clean" => await S3Admin.CleanAsync(a),
    _ => Usage(args[0]),
};

static int Usage(string cmd)
{
    Console.Error.WriteLine($"unknown command '{cmd}'");
    return 2;
}
