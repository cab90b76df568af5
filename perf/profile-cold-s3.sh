#!/usr/bin/env bash
# nfsgate-s3's cold reads on ../shared/tools/s3-ceph directly (no relay): where its CPU goes. Writes a 1 GiB file,
# reads a 256 MiB one cold three times (JIT), waits out the inline sweep, then per round evicts the cache and reads
# the 1 GiB file with one reader, 4 x 1 MiB READs in flight, printing MB/s and nfsgate's CPU ticks; the last round
# runs under `perf record -g` and its `perf script` lands in $OUT. Then one warm pass. Hand-run (perf/README.md
# "Recycled cache files"); needs what `make bench` installs, plus linux-perf.
#   BIN   the nfsgate binary (default out/nfsgate)   ROUNDS (3)   OUT (/tmp/profile-cold-s3.script)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
BIN=${BIN:-$HERE/../out/nfsgate} OUT=${OUT:-/tmp/profile-cold-s3.script} ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/nfsgate-profcold.XXXX); PIDS=(); BUCKETS=()
trap 'stop_all; s3_clean_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
eval "$("$HERE/../../shared/tools/s3-ceph/s3-ceph" start)" || { echo "s3-ceph did not start"; exit 1; }
# perf needs the JIT's symbol map to name managed frames.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 start_nfsgate_s3 prof "$BIN"; PID=$NGPID p=$NGPORT h=$NGHTTP
wait_port $p || { tail -n 5 "$W/prof.log"; exit 1; }
evict() { "$BIN" warmup --export default --evict --http 127.0.0.1:$h "$1" >/dev/null; }
LG write --nfs 127.0.0.1:$p --file hot --size 1024M >/dev/null
LG write --nfs 127.0.0.1:$p --file warm --size 256M >/dev/null
for _ in 1 2 3; do evict /warm; LG read --nfs 127.0.0.1:$p --file warm --conns 1 --depth 4 >/dev/null; done
sleep 50   # the inline sweep of the small writes' bytes, so it stays out of the rounds
for r in $(seq "$ROUNDS"); do
    evict /
    c0=$(ticks $PID)
    if [ "$r" = "$ROUNDS" ]; then perf record -F 999 -g -p $PID -o "$W/perf.data" >/dev/null 2>&1 & PP=$!; sleep 0.5; fi
    out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4)
    [ "$r" = "$ROUNDS" ] && { kill -INT $PP; wait $PP; }
    echo "r$r cold $(echo "$out" | jq -r .value) MB/s, nfsgate $(( $(ticks $PID) - c0 )) ticks for 1024 MiB$([ "$r" = "$ROUNDS" ] && echo ' (under perf)')"
done
c0=$(ticks $PID); out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4)
echo "warm $(echo "$out" | jq -r .value) MB/s, nfsgate $(( $(ticks $PID) - c0 )) ticks for 1024 MiB"
perf script -i "$W/perf.data" 2>/dev/null >"$OUT" && echo "perf script: $OUT"
