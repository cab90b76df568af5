#!/usr/bin/env bash
# 4 KiB FILE_SYNC random writes, 16 in flight on one connection (what randwrite-4k-16d sends), from the host: nfs-ganesha
# and two nfsgate builds side by side, interleaved, with each server's CPU per write from /proc. Hand-run (perf/README.md
# "Largest gaps", item 7); needs what `make bench` installs.
#   OLD, NEW   the two `nfsgate` binaries (NEW defaults to out/nfsgate; copy OLD's out/ aside first)
#   ROUNDS (3)  SECS per load (10)  SIZE of the file written into (64M)  GAP seconds between loads (3)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${OLD:?set OLD to the nfsgate binary of the other build}"
NEW=${NEW:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-abrw.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
start_ab || exit 1
for k in 0 1 2; do LG write ${TARGET[$k]} --file rw --size ${SIZE:-64M} >/dev/null; done
S=${SECS:-10}
for r in $(seq ${ROUNDS:-3}); do for k in 0 1 2; do
    c0=$(ticks "${PID[$k]}")
    o=$(LG randwrite ${TARGET[$k]} --file rw --conns 1 --depth 16 --seconds $S)
    c1=$(ticks "${PID[$k]}")
    w=$(echo "$o" | jq -r .writes)
    echo "r$r ${NAME[$k]} $(echo "$o" | jq -r '.value|floor') IOPS $(( (c1 - c0) * 10000 / (w+1) )) us/op"
    sleep ${GAP:-3}
done; done
