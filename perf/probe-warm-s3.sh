#!/usr/bin/env bash
# nfsgate-s3 on ../shared/tools/s3-ceph directly: four times, evict + cold read of a 1 GiB file, then three 8 s warm
# reads (one reader, 4 in flight) with nfsgate's CPU ticks and the machine's dirty pages; "sync" rounds flush the
# fill's dirty pages first. Hand-run (perf/README.md "Run AF"); needs what `make bench` installs.
#   BIN   the nfsgate binary (default out/nfsgate)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
BIN=${BIN:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-warmprobe.XXXX); PIDS=(); BUCKETS=()
trap 'stop_all; s3_clean_all; rm -rf "$W"' EXIT
build_loadgen >/dev/null || exit 1
eval "$("$HERE/../../shared/tools/s3-ceph/s3-ceph" start)" || { echo "s3-ceph did not start"; exit 1; }
start_nfsgate_s3 wp "$BIN"; PID=$NGPID p=$NGPORT h=$NGHTTP
wait_port $p || exit 1
LG write --nfs 127.0.0.1:$p --file hot --size 1024M >/dev/null
for _ in 1 2; do "$BIN" warmup --export default --evict --http 127.0.0.1:$h / >/dev/null; LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4 >/dev/null; done
for mode in nosync sync nosync sync; do
  "$BIN" warmup --export default --evict --http 127.0.0.1:$h / >/dev/null
  out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4); echo "$mode cold $(echo "$out" | jq -r .value)"
  dirty=$(awk '/^Dirty:/{print $2}' /proc/meminfo)
  [ $mode = sync ] && sync
  for i in 1 2 3; do c0=$(ticks $PID); out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4 --seconds 8); echo "  $mode warm$i $(echo "$out" | jq -r .value) MB/s, cpu $(( $(ticks $PID) - c0 )) ticks (Dirty before: $dirty kB, now $(awk '/^Dirty:/{print $2}' /proc/meminfo) kB)"; done
done
