#!/usr/bin/env bash
# Interleaved A/B of two nfsgate builds and ganesha: GETATTR and LOOKUP (64 connections x 4 in flight) and CREATE
# (mkfiles, 4 x 8). OLD and NEW are `dotnet publish` output directories (e.g. a copy of out/ before and after a
# change). Usage: OLD=/tmp/ng-old NEW=/tmp/ng-new [ROUNDS=2] [S=5] [NFILES=2000] perf/NfsGate.Benchmarks/ab-ops.sh
# One JSON line per measurement; a {"round","server"} line precedes each server's results.
set -uo pipefail
: "${OLD:?publish dir of the old build}" "${NEW:?publish dir of the new build}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(mktemp -d /tmp/nfsgate-ab.XXXXXX)
ROUNDS=${ROUNDS:-2} S=${S:-5} NFILES=${NFILES:-2000}
dotnet build "$HERE/../NfsGate.LoadGen/NfsGate.LoadGen.csproj" -c Release --nologo -v q >/dev/null || exit 1
cp -r "$HERE/../NfsGate.LoadGen/bin/Release/net10.0" "$W/loadgen"
LG() { dotnet "$W/loadgen/nfsgate-loadgen.dll" "$@"; }
PIDS=()
stop() {    # by PID: TERM, then KILL after 20 s (a loaded machine can take seconds to shut a server down)
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
}
cleanup() { for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "${PIDS[$i]}"; done; rm -rf "$W"; }
trap cleanup EXIT
free_port() { local p; while :; do p=$((30000 + RANDOM % 25000)); ss -ltn | awk '{print $4}' | grep -q ":$p\$" || { echo $p; return; }; done; }
wait_port() { for _ in $(seq 300); do ss -ltn | awk '{print $4}' | grep -q ":$1\$" && return 0; sleep 0.2; done; return 1; }
GN=$(free_port) GM=$(free_port)
mkdir -p "$W/ganesha/export"
cat >"$W/ganesha.conf" <<EOC
NFS_CORE_PARAM { Protocols = 3; Enable_UDP = false; Enable_NLM = false; Enable_RQUOTA = false; Bind_Addr = 127.0.0.1; NFS_Port = $GN; MNT_Port = $GM; }
EXPORT { Export_Id = 1; Path = $W/ganesha/export; Pseudo = /export; Protocols = 3; Transports = TCP; Access_Type = RW; Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
EOC
if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
    rpcbind -f -w </dev/null >/dev/null 2>&1 & PIDS+=($!)
    for _ in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
fi
ganesha.nfsd -F -f "$W/ganesha.conf" -L "$W/ganesha.log" -p "$W/ganesha.pid" </dev/null >/dev/null 2>&1 & PIDS+=($!)
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
