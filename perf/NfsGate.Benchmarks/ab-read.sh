#!/usr/bin/env bash
# Interleaved A/B of two nfsgate builds and ganesha on warm READs (issue 3 / issue 7): one reader with 4 x 1 MiB READs
# in flight (bench.sh's warm-read-1c) and 16 readers x 4 (read-16c), over a HOT_MB file that each server already
# holds (nfsgate: in its block cache, written through it; ganesha: in the host page cache after one pass).
# OLD and NEW are `dotnet publish` output directories; both serve with the embedded defaults (local object store,
# block cache), as bench.sh's `nfsgate` does.
# Usage: OLD=/tmp/ng-old NEW=/tmp/ng-new [ROUNDS=3] [S=5] [HOT_MB=256] [CONNS="1 16"] [LOADGEN=DIR] perf/NfsGate.Benchmarks/ab-read.sh
# One JSON line per measurement; a {"round","server","load"} line precedes each server's results.
set -uo pipefail
: "${OLD:?publish dir of the old build}" "${NEW:?publish dir of the new build}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"   # stop_all, free_port, wait_port, build_loadgen, LG, start_ganesha (shared with perf/bench.sh)
W=$(mktemp -d /tmp/nfsgate-abr.XXXXXX)
ROUNDS=${ROUNDS:-3} S=${S:-5} HOT_MB=${HOT_MB:-256}
read -ra CONNS <<<"${CONNS:-1 16}"
PIDS=()
cleanup() { stop_all; rm -rf "$W"; }
trap cleanup EXIT
# LOADGEN=DIR: an already built nfsgate-loadgen (e.g. a copy of its bin/Release/net10.0), to skip the build.
if [ -n "${LOADGEN:-}" ]; then cp -r "$LOADGEN" "$W/loadgen"; else build_loadgen || exit 1; fi
start_ganesha; PID_ganesha=$GPID
NO=$(free_port) HO=$(free_port) NN=$(free_port) HN=$(free_port)
NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$HO "$OLD/nfsgate" serve --listen 127.0.0.1:$NO --data-dir "$W/old" </dev/null >"$W/old.log" 2>&1 & PIDS+=($!); PID_old=$!
NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$HN "$NEW/nfsgate" serve --listen 127.0.0.1:$NN --data-dir "$W/new" </dev/null >"$W/new.log" 2>&1 & PIDS+=($!); PID_new=$!
# NEW2=DIR [NEW2_ENV="VAR=value ..."]: a third build, or the new one under other runtime settings (e.g. a thread-pool knob).
if [ -n "${NEW2:-}" ]; then
    N2=$(free_port) H2=$(free_port)
    env ${NEW2_ENV:-} NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$H2 "$NEW2/nfsgate" serve --listen 127.0.0.1:$N2 --data-dir "$W/new2" </dev/null >"$W/new2.log" 2>&1 & PIDS+=($!); PID_new2=$!
fi
for p in $GN $GM $NO $NN ${N2:-}; do wait_port $p || { echo "nothing on $p"; tail "$W"/*.log; exit 1; }; done
target() { case $1 in ganesha) echo "--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export";; old) echo "--nfs 127.0.0.1:$NO";; new) echo "--nfs 127.0.0.1:$NN";; new2) echo "--nfs 127.0.0.1:$N2";; esac; }
read -ra SERVERS <<<"${SERVERS:-ganesha old new${NEW2:+ new2}}"
N=${#SERVERS[@]}
for s in "${SERVERS[@]}"; do
    LG write $(target $s) --file hot --size ${HOT_MB}M >/dev/null || exit 1
    LG read $(target $s) --conns 1 --depth 4 >/dev/null || exit 1   # one pass: every block cached / in the page cache
done
for r in $(seq $ROUNDS); do
    order=("${SERVERS[@]:$((r % N))}" "${SERVERS[@]:0:$((r % N))}")
    for s in "${order[@]}"; do
        echo "{\"round\":$r,\"server\":\"$s\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\"}"
        for c in "${CONNS[@]}"; do
            pid=PID_$s; t0=$(ticks ${!pid})
            out=$(LG read $(target $s) --conns $c --depth 4 --seconds $S --label read-${c}c); echo "$out"
            t1=$(ticks ${!pid}) bytes=$(echo "$out" | jq -r .bytes)
            # Server CPU (user + system) per MiB served: the work a READ costs, which the machine's load hardly changes.
            echo "{\"metric\":\"cpu-read-${c}c\",\"value\":$(awk -v t=$((t1 - t0)) -v hz=$(getconf CLK_TCK) -v b=$bytes 'BEGIN{printf "%.1f", t / hz * 1e6 / (b / 1048576)}'),\"unit\":\"us/MiB\"}"
        done
    done
done
