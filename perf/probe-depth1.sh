#!/usr/bin/env bash
# One call in flight, side by side: REMOVE ops/s and warm 4 KiB READ MB/s from the host against nfs-ganesha (VFS on the
# local disk) and out/nfsgate (embedded defaults), interleaved, with each server's CPU per call from /proc. Hand-run
# (perf/README.md "Largest gaps", item 6); needs what `make bench` installs and `make build`.
#   ROUNDS (3)  COUNT files removed per round (2000)  SECS per READ turn (3)  SERVER_ENV (extra env, e.g. a runtime knob)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
W=$(mktemp -d /tmp/nfsgate-depth1.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
start_ganesha
P=$(free_port) H=$(free_port)
env ${SERVER_ENV:-} NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$H "$HERE/../out/nfsgate" serve --listen 127.0.0.1:$P \
    --data-dir "$W/nfsgate" </dev/null >"$W/nfsgate.log" 2>&1 & NGPID=$!; PIDS+=($NGPID)
wait_port "$GN" && wait_port "$P" || { echo "a server did not start"; tail -n 5 "$W"/nfsgate.log "$W"/ganesha.log; exit 1; }
NAME=(ganesha nfsgate); PID=($GPID $NGPID)
TARGET=("--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export" "--nfs 127.0.0.1:$P")
R=${ROUNDS:-3} C=${COUNT:-2000}
for k in 0 1; do
    LG write ${TARGET[$k]} --file hot --size 64M >/dev/null
    for r in $(seq "$R"); do LG mkfiles ${TARGET[$k]} --dir d$r --count "$C" --conns 1 >/dev/null; done
done
for r in $(seq "$R"); do for k in 0 1; do
    c0=$(ticks "${PID[$k]}")
    ops=$(LG rmfiles ${TARGET[$k]} --dir d$r --count "$C" | jq -r '"\(.value | floor) ops/s, \(.failed) failed"')
    c1=$(ticks "${PID[$k]}")
    echo "${NAME[$k]} round $r: REMOVE depth 1: $ops, $(( (c1 - c0) * 10000 / C )) us CPU per op"
    c0=$(ticks "${PID[$k]}")
    out=$(LG read ${TARGET[$k]} --file hot --conns 1 --depth 1 --block 4096 --seconds "${SECS:-3}")
    c1=$(ticks "${PID[$k]}")
    calls=$(( $(echo "$out" | jq -r .bytes) / 4096 ))
    echo "${NAME[$k]} round $r: READ 4 KiB depth 1: $(echo "$out" | jq -r .value) MB/s, $(( (c1 - c0) * 10000 / calls )) us CPU per call"
done; done
