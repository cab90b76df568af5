#!/usr/bin/env bash
# Cold S3 reads of two nfsgate builds side by side, on ../shared/tools/s3-ceph directly (no relay): each writes a
# 512 MiB file, reads a 256 MiB one cold twice (JIT), then per round evicts its cache and reads the 512 MiB file with
# one reader, 4 x 1 MiB READs in flight. Hand-run (perf/README.md "Largest gaps", item 6).
#   OLD, NEW   the two `nfsgate` binaries (NEW defaults to out/nfsgate)   ROUNDS (5)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${OLD:?set OLD to the nfsgate binary of the other build}"
BIN=("$OLD" "${NEW:-$HERE/../out/nfsgate}"); NAME=(old new); PORT=(); HP=()
W=$(mktemp -d /tmp/nfsgate-abs3.XXXX); PIDS=(); BUCKETS=()
trap 'stop_all; s3_clean_all; rm -rf "$W"' EXIT
build_loadgen || exit 1
eval "$("$HERE/../../shared/tools/s3-ceph/s3-ceph" start)" || { echo "s3-ceph did not start"; exit 1; }
for k in 0 1; do start_nfsgate_s3 abs3-$k "${BIN[$k]}"; PORT+=($NGPORT); HP+=($NGHTTP); done
for p in "${PORT[@]}"; do wait_port "$p" || { tail -n 5 "$W"/*.log; exit 1; }; done
evict() { "${BIN[$1]}" warmup --export default --evict --http 127.0.0.1:${HP[$1]} "$2" >/dev/null; }
for k in 0 1; do
    LG write --nfs 127.0.0.1:${PORT[$k]} --file hot --size 512M >/dev/null
    LG write --nfs 127.0.0.1:${PORT[$k]} --file warm --size 256M >/dev/null
    for pass in 1 2; do evict $k /warm; LG read --nfs 127.0.0.1:${PORT[$k]} --file warm --conns 1 --depth 4 >/dev/null; done
done
for r in $(seq "${ROUNDS:-5}"); do for k in 0 1; do
    evict $k /
    echo "r$r ${NAME[$k]} cold-1c $(LG read --nfs 127.0.0.1:${PORT[$k]} --file hot --conns 1 --depth 4 | jq -r .value) MB/s"
done; done
