#!/usr/bin/env bash
# Hand probe: does a slow warm read touch new memory? nfsgate-s3 on ../shared/tools/s3-ceph directly: evict + cold
# read of a 1 GiB file, then 8 s warm reads (one reader, 4 in flight), four times. Per warm read: MB/s, nfsgate's CPU
# ticks and minor page faults, the machine's page allocations and faults (/proc/vmstat), and a memcpy rate of the
# machine measured right before it (python, 256 MiB). Needs what `make bench` installs.
#   BIN   the nfsgate binary (default out/nfsgate)   ROUNDS (default 4)   WARM warm reads per round (default 3)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
BIN=${BIN:-$HERE/../out/nfsgate}; ROUNDS=${ROUNDS:-4}; WARM=${WARM:-3}
W=$(mktemp -d /tmp/nfsgate-faultprobe.XXXX); PIDS=(); BUCKETS=()
trap 'stop_all; s3_clean_all; rm -rf "$W"' EXIT
build_loadgen >/dev/null || exit 1
eval "$("$HERE/../../shared/tools/s3-ceph/s3-ceph" start)" || { echo "s3-ceph did not start"; exit 1; }
start_nfsgate_s3 fp "$BIN"; PID=$NGPID p=$NGPORT h=$NGHTTP
wait_port $p || exit 1
minflt() { awk '{print $10}' "/proc/$1/stat"; }
vm() { awk '/^pgalloc_(normal|dma32|movable) /{a+=$2} /^pgfault /{f=$2} END{printf "%.0f %.0f\n", a, f}' /proc/vmstat; }
memcpy_gbps() { python3 -c '
import time
n = 256 << 20; a = bytearray(b"x") * n; b = bytearray(n); b[:] = a
t = time.perf_counter()
for _ in range(4): b[:] = a
print(f"{4 * n / (time.perf_counter() - t) / 1e9:.1f}")'; }
LG write --nfs 127.0.0.1:$p --file hot --size 1024M >/dev/null
for _ in 1 2; do "$BIN" warmup --export default --evict --http 127.0.0.1:$h / >/dev/null; LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4 >/dev/null; done
echo "window MB/s cpu_ticks server_minflt machine_pgalloc_MiB machine_pgfault memcpy_GB/s"
for r in $(seq "$ROUNDS"); do
  "$BIN" warmup --export default --evict --http 127.0.0.1:$h / >/dev/null
  out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4); echo "round $r cold $(echo "$out" | jq -r .value)"
  for i in $(seq "$WARM"); do
    g=$(memcpy_gbps)
    c0=$(ticks $PID); f0=$(minflt $PID); read -r a0 p0 < <(vm)
    out=$(LG read --nfs 127.0.0.1:$p --file hot --conns 1 --depth 4 --seconds 8)
    read -r a1 p1 < <(vm)
    echo "  warm$i $(echo "$out" | jq -r .value) $(( $(ticks $PID) - c0 )) $(( $(minflt $PID) - f0 )) $(( (a1 - a0) * 4 / 1024 )) $((p1 - p0)) $g"
  done
done
