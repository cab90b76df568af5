#!/usr/bin/env bash
# Two nfsgate builds and nfs-ganesha side by side, interleaved, from the host: REMOVE, 4 KiB READ and GETATTR with one
# call in flight (server CPU per call from /proc), then GETATTR over 64 connections x 4 and READ over 16 x 4 x 1 MiB.
# Hand-run (perf/README.md "Largest gaps", item 6); needs what `make bench` installs.
#   OLD, NEW   the two `nfsgate` binaries (NEW defaults to out/nfsgate; copy OLD's out/ aside first)
#   ROUNDS (3)  COUNT files removed per round (3000)  SECS per load (3)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${OLD:?set OLD to the nfsgate binary of the other build}"
NEW=${NEW:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-ab.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
start_ab || exit 1
R=${ROUNDS:-3} C=${COUNT:-3000} S=${SECS:-3}
for k in 0 1 2; do
    LG write ${TARGET[$k]} --file hot --size 256M >/dev/null
    for r in $(seq "$R"); do LG mkfiles ${TARGET[$k]} --dir d$r --count "$C" --conns 1 >/dev/null; done
    LG read ${TARGET[$k]} --file hot --conns 1 --depth 4 --block 1M --seconds 2 >/dev/null   # warm the cache and the JIT
done
for r in $(seq "$R"); do for k in 0 1 2; do
    n=${NAME[$k]} c0=$(ticks "${PID[$k]}")
    v=$(LG rmfiles ${TARGET[$k]} --dir d$r --count "$C" | jq -r '.value|floor'); c1=$(ticks "${PID[$k]}")
    echo "r$r $n remove-d1 $v ops/s $(( (c1 - c0) * 10000 / C )) us/op"
    c0=$(ticks "${PID[$k]}"); o=$(LG read ${TARGET[$k]} --file hot --conns 1 --depth 1 --block 4096 --seconds "$S"); c1=$(ticks "${PID[$k]}")
    calls=$(( $(echo "$o" | jq -r .bytes) / 4096 ))
    echo "r$r $n read4k-d1 $(echo "$o" | jq -r .value) MB/s $(( (c1 - c0) * 10000 / calls )) us/op"
    c0=$(ticks "${PID[$k]}"); o=$(LG ops ${TARGET[$k]} --op getattr --conns 1 --depth 1 --seconds "$S"); c1=$(ticks "${PID[$k]}")
    v=$(echo "$o" | jq -r '.value|floor'); echo "r$r $n getattr-d1 $v ops/s $(( (c1 - c0) * 10000 / (S * v + 1) )) us/op"
    echo "r$r $n getattr-64c $(LG ops ${TARGET[$k]} --op getattr --conns 64 --depth 4 --seconds "$S" | jq -r .value) ops/s"
    echo "r$r $n read-16c $(LG read ${TARGET[$k]} --file hot --conns 16 --depth 4 --block 1M --seconds "$S" | jq -r .value) MB/s"
done; done
