#!/usr/bin/env bash
# Where nfsgate's resident memory is (perf/README.md "Run AB"): nfsgate local (4 GiB cache) gets 1 GiB written, three
# 5 s random-write loads and a 16-connection read; after each step it prints VmRSS, RssAnon, RssFile, the GC's
# committed memory and RocksDB's memtables + block cache, then waits for a native-heap trim (every 30 s) and prints
# the trim counters. Hand-run; needs what `make bench` installs.   BIN   the nfsgate binary (default out/nfsgate)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
BIN=${BIN:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-heapprobe.XXXX); PIDS=()
trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen >/dev/null || exit 1
p=$(free_port) h=$(free_port)
NFSGATE_CACHE__SIZE=4GiB NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$h "$BIN" serve --listen 127.0.0.1:$p --data-dir "$W/d" </dev/null >"$W/s.log" 2>&1 &
PID=$!; PIDS+=($PID)
wait_port $p || exit 1
st() {
    echo "$1 $(awk '/VmRSS|RssAnon|RssFile/ { printf "%s%d ", $1, $2 / 1024 }' /proc/$PID/status) $(curl -s 127.0.0.1:$h/metrics |
        awk '/^dotnet_gc_committed_bytes/ { printf "gc=%d ", $2 / 1048576 } /^nfsgate_metadata_(memtable|block_cache)_bytes/ { kv += $2 } END { printf "kv=%d", kv / 1048576 }') (MiB)"
}
st start
LG write --nfs 127.0.0.1:$p --file big --size 1G >/dev/null; st after-write
for i in 1 2 3; do LG randwrite --nfs 127.0.0.1:$p --file big --conns 4 --depth 4 >/dev/null; st after-randwrite$i; done
LG read --nfs 127.0.0.1:$p --file big --conns 16 --depth 4 >/dev/null; st after-read16
sleep 31; st after-a-trim
curl -s 127.0.0.1:$h/metrics | grep '^nfsgate_native_heap'
