#!/usr/bin/env bash
# Profiles READ over CONNS connections (default 16; 1 is the warm read; 4 x 1 MiB in flight, 6 s, twice) on one or
# two nfsgate builds and, with GANESHA=1, on nfs-ganesha too, each server alone, each with a 1 GiB hot file read twice
# first (nfsgate with a 4 GiB block cache), and prints per round MB/s, the server's ms of CPU per MB (/proc) and the
# leaf samples of the cache-hit check (Crc32C / ReadCached, where the JIT inlined it). Hand-run ("The cache-hit check
# at 38 GB/s" in perf/README.md); installs linux-perf if missing, needs what `make bench` installs.
#   NEW (default out/nfsgate)   OLD (optional: the other build's nfsgate)   CONNS (16)   GANESHA=1 (profile it too)
#   KEEP=1 keeps the folded profiles as perf/results/profile-reads-c<CONNS>-<server>-<round>.txt
set -u
CONNS=${CONNS:-16} SECS=6
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
NEW=${NEW:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-profreads.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
install_packages linux-perf || exit 1
build_loadgen >/dev/null || exit 1
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0   # names for JIT'd frames
for b in ${GANESHA:+ganesha} ${OLD:+old} new; do
    if [ $b = ganesha ]; then
        start_ganesha || exit 1; pid=$GPID; wait_port "$GN" || exit 1
        target="--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export"
    else
        bin=$NEW; [ $b = old ] && bin=$OLD
        p=$(free_port); NFSGATE_CACHE__SIZE=4GiB start_nfsgate $b "$bin" $p; pid=$NGPID; wait_port $p || exit 1
        target="--nfs 127.0.0.1:$p"
    fi
    LG write $target --file hot --size 1024M >/dev/null
    for _ in 1 2; do LG read $target --file hot --conns 1 --depth 4 >/dev/null; done
    for round in 1 2; do
        perf record -F 999 -g -o "$W/$b.data" -p $pid >/dev/null 2>&1 & pp=$!
        c0=$(ticks $pid)
        v=$(LG read $target --file hot --conns "$CONNS" --depth 4 --seconds "$SECS" | jq -r .value)
        c1=$(ticks $pid)
        kill -INT $pp; wait $pp
        perf script -i "$W/$b.data" 2>/dev/null | python3 "$HERE/fold.py" /dev/stdin 200 >"$W/$b-$round.txt"
        [ -n "${KEEP:-}" ] && cp "$W/$b-$round.txt" "$HERE/results/profile-reads-c$CONNS-$b-$round.txt"
        leaf=$(awk '/^-- leaf/ { l = 1 } l && /Crc32C|ReadCached/' "$W/$b-$round.txt" | tr '\n' ';')
        awk -v b=$b -v r=$round -v v="$v" -v c=$((c1 - c0)) -v s="$SECS" -v l="$leaf" \
            'BEGIN { printf "%s round %s: %.1f MB/s, %.3f ms CPU per MB; leaf samples: %s\n", b, r, v, c * 10 / (v * s), l }'
    done
    kill $pid; wait $pid 2>/dev/null
done
