#!/usr/bin/env bash
# 1 vs 3 gateways on one shared PostgreSQL (issue 8), side by side in one run, plus one RocksDB gateway as the
# single-node reference. Every load is perf/NfsGate.LoadGen straight at the gateways' NFS ports (no HAProxy: with one
# client address, "balance source" sends every connection to the same gateway, which is what it is for).
#   mkfiles  CREATE rate (metadata write transactions): one gateway, then three at once (one directory each)
#   getattr  GETATTR rate (metadata read transactions): one gateway, then three at once
#   write    1 MiB UNSTABLE WRITEs + COMMIT: one gateway, then three at once (one file each)
# Prints one JSON line per measurement (LoadGen's) with a "setup" label; perf/README.md records a run.
# Environment: SCALEOUT_FILES (files per mkfiles run, default 2000), SCALEOUT_SECONDS (getattr seconds, default 10),
# SCALEOUT_WRITE (bytes per write run, default 256M), SCALEOUT_NO_BUILD=1 with SCALEOUT_LOADGEN=path/to/nfsgate-loadgen.dll
# (a copy of a LoadGen build, so a tree that does not build right now can still be measured), NFSGATE (default out/nfsgate),
# SCALEOUT_LOGS=dir (keep the gateways' and PostgreSQL's logs there), SCALEOUT_STAGES (default "mkfiles getattr write").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NFSGATE=${NFSGATE:-$ROOT/out/nfsgate}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
FILES=${SCALEOUT_FILES:-2000}
SECONDS_PER=${SCALEOUT_SECONDS:-10}
WRITE=${SCALEOUT_WRITE:-256M}
W=$(mktemp -d /tmp/nfsgate-scaleout-bench.XXXXXX)
PGDIR=$(mktemp -d /tmp/nfsgate-scaleout-bench-pg.XXXXXX)
PIDS=()

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ -n "${SCALEOUT_LOGS:-}" ]; then mkdir -p "$SCALEOUT_LOGS"; cp "$W"/*.log "$PGDIR/log" "$SCALEOUT_LOGS/" 2>/dev/null || true; fi
    rm -rf "$W" "$PGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { local p; while :; do p=$((20000 + RANDOM % 12000)); ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }; done; }
listening() { ss -Htln "sport = :$2" | grep -q "$1:$2 "; }

# Quiet unless it fails (a build racing another engineer's on the shared obj/ dirs can fail: say why, not just exit).
if [ -z "${SCALEOUT_NO_BUILD:-}" ] && ! dotnet build "$ROOT/perf/NfsGate.LoadGen" -c Release --nologo -v q >"$W/build.log" 2>&1; then
    echo "building perf/NfsGate.LoadGen failed:"; tail -20 "$W/build.log"; exit 1
fi
LOADGEN=(dotnet "${SCALEOUT_LOADGEN:-$ROOT/perf/NfsGate.LoadGen/bin/Release/net10.0/nfsgate-loadgen.dll}")

[ "$(id -u)" -eq 0 ] && chown postgres: "$PGDIR"
PG_PORT=$(free_port); PORT=$(free_port); HTTP_PORT=$(free_port)
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
# Default durability (fsync on, synchronous_commit on): what a deployment runs.
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PG_PORT -k $PGDIR -c listen_addresses=127.0.0.1" -l "$PGDIR/log" -w start >/dev/null
CS="Host=127.0.0.1;Port=$PG_PORT;Database=postgres;Username=postgres"

start_gw() {   # address, metadata json
    local a=$1
    cat >"$W/$a.json" <<JSON
{ "listen": "$a:$PORT", "portmapper": "off", "http": "$a:$HTTP_PORT", "dataDir": "$W/$a",
  "metadata": $2, "objectStore": { "type": "local", "path": "$W/objects-$3" } }
JSON
    "$NFSGATE" serve --config "$W/$a.json" >"$W/$a.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 600); do listening "$a" "$PORT" && return 0; sleep 0.2; done
    echo "gateway $a did not start"; tail "$W/$a.log"; exit 1
}
PG_META="{ \"engine\": \"postgres\", \"connectionString\": \"$CS\" }"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do start_gw $a "$PG_META" shared; done
start_gw 127.0.0.5 '{ "engine": "rocksdb" }' rocks

# A load that reports failures (e.g. mkfiles with failed CREATEs) exits non-zero: keep going, its JSON line says so.
lg() { "${LOADGEN[@]}" "$1" --nfs "$2:$PORT" "${@:3}" || echo "{\"note\":\"loadgen $1 on $2 exited $?\"}"; }
label() { sed "s/^{/{\"setup\":\"$1\",/"; }
# A plain `wait` would also wait for the gateways (background children too): wait for the loads only.
JOBS=()
wait_jobs() { wait "${JOBS[@]}"; JOBS=(); }

STAGES=" ${SCALEOUT_STAGES:-mkfiles getattr write} "
if [[ $STAGES == *" mkfiles "* ]]; then
echo "# mkfiles: $FILES CREATEs per gateway; $(uptime)"
lg mkfiles 127.0.0.5 --dir rocks --count "$FILES" | label "rocksdb 1 gateway"
lg mkfiles 127.0.0.2 --dir one --count "$FILES" | label "postgres 1 gateway"
for i in 2 3 4; do lg mkfiles "127.0.0.$i" --dir "three-$i" --count "$FILES" | label "postgres 3 gateways (gw $i)" & JOBS+=($!); done; wait_jobs

fi

if [[ $STAGES == *" getattr "* ]]; then
echo "# getattr: $SECONDS_PER s; $(uptime)"
lg write 127.0.0.5 --file hot --size 1M >/dev/null
lg write 127.0.0.2 --file hot --size 1M >/dev/null
# The same offered load everywhere: 18 connections x depth 4 in all, on one gateway or spread over three. (64 x 4 on
# one PostgreSQL gateway queued calls past Npgsql's 30 s command timeout on this loaded host: SYSTEM_ERR, no number.)
# Warm-up, not measured: a fresh gateway is slow for its first seconds under this load (JIT, its thread pool growing,
# and on PostgreSQL a new backend per pooled connection); the stages below measure steady state.
for i in 5 2 3 4; do lg ops "127.0.0.$i" --op getattr --conns 18 --seconds 3 >/dev/null & JOBS+=($!); done; wait_jobs
lg ops 127.0.0.5 --op getattr --conns 18 --seconds "$SECONDS_PER" | label "rocksdb 1 gateway"
lg ops 127.0.0.2 --op getattr --conns 18 --seconds "$SECONDS_PER" | label "postgres 1 gateway"
for i in 2 3 4; do lg ops "127.0.0.$i" --op getattr --conns 6 --seconds "$SECONDS_PER" | label "postgres 3 gateways (gw $i)" & JOBS+=($!); done; wait_jobs

fi

if [[ $STAGES == *" write "* ]]; then
echo "# write: $WRITE per gateway; $(uptime)"
lg write 127.0.0.5 --file big-rocks --size "$WRITE" | label "rocksdb 1 gateway"
lg write 127.0.0.2 --file big-one --size "$WRITE" | label "postgres 1 gateway"
for i in 2 3 4; do lg write "127.0.0.$i" --file "big-$i" --size "$WRITE" | label "postgres 3 gateways (gw $i)" & JOBS+=($!); done; wait_jobs
fi
echo "# done; $(uptime)"
