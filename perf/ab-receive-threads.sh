#!/usr/bin/env bash
# nfs-ganesha and several nfsgate builds side by side from the host, interleaved: GETATTR over 64 connections x 4 and
# 1 MiB READ over 16 x 4 (server CPU per call / per MB from /proc), then GETATTR with one call in flight. Hand-run
# (perf/README.md "Largest gaps", item 6: builds that differ only in RpcServerOptions.ReceiveThreads); needs what
# `make bench` installs.
#   BINS   space-separated `nfsgate` binaries, each in a directory of its own (its name labels the rows)
#   ROUNDS (3)  SECS per load (4)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${BINS:?set BINS to the nfsgate binaries to compare}"
W=$(mktemp -d /tmp/nfsgate-abrt.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
start_ganesha
NAME=(ganesha); PID=($GPID); TARGET=("--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export")
for b in $BINS; do
    n=$(basename "$(dirname "$b")") p=$(free_port)
    start_nfsgate "$n" "$b" $p
    wait_port $p || { echo "$n did not start"; tail -n 5 "$W/$n.log"; exit 1; }
    NAME+=("$n"); PID+=($NGPID); TARGET+=("--nfs 127.0.0.1:$p")
done
wait_port "$GN" || { echo "ganesha did not start"; exit 1; }
K=${#NAME[@]} S=${SECS:-4}
for k in $(seq 0 $((K - 1))); do
    LG write ${TARGET[$k]} --file hot --size 256M >/dev/null
    LG read ${TARGET[$k]} --file hot --conns 1 --depth 4 --block 1M --seconds 2 >/dev/null   # warm the cache and the JIT
done
for r in $(seq "${ROUNDS:-3}"); do for k in $(seq 0 $((K - 1))); do
    n=${NAME[$k]}
    c0=$(ticks "${PID[$k]}"); v=$(LG ops ${TARGET[$k]} --op getattr --conns 64 --depth 4 --seconds "$S" | jq -r '.value|floor'); c1=$(ticks "${PID[$k]}")
    echo "r$r $n getattr-64c $v ops/s $(( (c1 - c0) * 10000 / (S * v + 1) )) us/op"
    c0=$(ticks "${PID[$k]}"); v=$(LG read ${TARGET[$k]} --file hot --conns 16 --depth 4 --block 1M --seconds "$S" | jq -r '.value|floor'); c1=$(ticks "${PID[$k]}")
    echo "r$r $n read-16c $v MB/s $(( (c1 - c0) * 10000 / (S * v + 1) )) us/MB"
    echo "r$r $n getattr-d1 $(LG ops ${TARGET[$k]} --op getattr --conns 1 --depth 1 --seconds "$S" | jq -r '.value|floor') ops/s"
done; done
