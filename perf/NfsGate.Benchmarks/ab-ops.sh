#!/usr/bin/env bash
# Interleaved A/B of two nfsgate builds and ganesha: GETATTR and LOOKUP (64 connections x 4 in flight) and CREATE
# (mkfiles, 4 x 8). OLD and NEW are `dotnet publish` output directories (e.g. a copy of out/ before and after a
# change). Usage: OLD=/tmp/ng-old NEW=/tmp/ng-new [ROUNDS=2] [S=5] [NFILES=2000] perf/NfsGate.Benchmarks/ab-ops.sh
# One JSON line per measurement; a {"round","server"} line precedes each server's results.
set -uo pipefail
: "${OLD:?publish dir of the old build}" "${NEW:?publish dir of the new build}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"   # stop_all, free_port, wait_port, build_loadgen, LG, start_ganesha (shared with perf/bench.sh)
W=$(mktemp -d /tmp/nfsgate-ab.XXXXXX)
ROUNDS=${ROUNDS:-2} S=${S:-5} NFILES=${NFILES:-2000}
PIDS=()
cleanup() { stop_all; rm -rf "$W"; }
trap cleanup EXIT
build_loadgen || exit 1
start_ganesha
NO=$(free_port) HO=$(free_port) NN=$(free_port) HN=$(free_port)
NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$HO "$OLD/nfsgate" serve --listen 127.0.0.1:$NO --data-dir "$W/old" </dev/null >"$W/old.log" 2>&1 & PIDS+=($!)
NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$HN "$NEW/nfsgate" serve --listen 127.0.0.1:$NN --data-dir "$W/new" </dev/null >"$W/new.log" 2>&1 & PIDS+=($!)
for p in $GN $GM $NO $NN; do wait_port $p || { echo "nothing on $p"; tail "$W"/*.log; exit 1; }; done
target() { case $1 in ganesha) echo "--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export";; old) echo "--nfs 127.0.0.1:$NO";; new) echo "--nfs 127.0.0.1:$NN";; esac; }
# SERVERS="old new" OPS="getattr" narrows the run (e.g. a GETATTR-only A/B whose order alternates every round).
read -ra SERVERS <<<"${SERVERS:-ganesha old new}"
OPS=" ${OPS:-getattr lookup mkfiles} "
N=${#SERVERS[@]}
for s in "${SERVERS[@]}"; do LG write $(target $s) --file hot --size 1M >/dev/null || exit 1; done
for r in $(seq $ROUNDS); do
    order=("${SERVERS[@]:$((r % N))}" "${SERVERS[@]:0:$((r % N))}")
    for s in "${order[@]}"; do
        echo "{\"round\":$r,\"server\":\"$s\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\"}"
        [[ $OPS != *" getattr "* ]] || LG ops $(target $s) --op getattr --conns 64 --depth 4 --seconds $S
        [[ $OPS != *" lookup "* ]] || LG ops $(target $s) --op lookup --conns 64 --depth 4 --seconds $S
        [[ $OPS != *" mkfiles "* ]] || LG mkfiles $(target $s) --dir "c$r" --count $NFILES
    done
done
