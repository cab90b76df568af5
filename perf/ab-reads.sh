#!/usr/bin/env bash
# Two nfsgate builds (embedded defaults, 4 GiB block cache, as `make bench` runs nfsgate local) and nfs-ganesha side by
# side, interleaved, from the host: a 1 GiB hot file read by one reader (4 x 1 MiB in flight) and over 16 connections
# (x 4), every read served from memory after two unmeasured passes. MB/s and server CPU per MB from /proc.
# Hand-run (perf/README.md); needs what `make bench` installs.
#   OLD, NEW   the two `nfsgate` binaries (NEW defaults to out/nfsgate; copy OLD's out/ aside first)
#   ROUNDS (3)  SECS per load (8)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${OLD:?set OLD to the nfsgate binary of the other build}"
NEW=${NEW:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-ab.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
NFSGATE_CACHE__SIZE=4GiB start_ab || exit 1
R=${ROUNDS:-3} S=${SECS:-8}
for k in 0 1 2; do
    LG write ${TARGET[$k]} --file hot --size 1024M >/dev/null
    for _ in 1 2; do LG read ${TARGET[$k]} --file hot --conns 1 --depth 4 >/dev/null; done   # fill the cache, warm the JIT
done
for r in $(seq "$R"); do for load in "1 warm-read-1c" "16 read-16c"; do for k in 0 1 2; do
    set -- $load
    LG read ${TARGET[$k]} --file hot --conns 1 --depth 4 >/dev/null   # touch the file again: this VM pages out idle pages
    c0=$(ticks "${PID[$k]}"); v=$(LG read ${TARGET[$k]} --file hot --conns "$1" --depth 4 --seconds "$S" | jq -r .value); c1=$(ticks "${PID[$k]}")
    awk -v r="$r" -v n="${NAME[$k]}" -v l="$2" -v v="$v" -v c="$((c1 - c0))" -v s="$S" \
        'BEGIN { printf "r%s %-8s %-13s %8.1f MB/s  %.3f ms CPU per MB\n", r, n, l, v, c * 10 / (v * s) }'
done; done; done
