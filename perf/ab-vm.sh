#!/usr/bin/env bash
# Several nfsgate builds through the Linux kernel client (nfs-vm), interleaved: 2,000 creates then removes, a 4 KiB
# O_DIRECT random read and random write at queue depth 16 into a 64 MiB file, and the receive-thread gauge after the
# guest has gone. Hand-run (perf/README.md, run Q and item 7); needs what `make bench` installs.
#   BINS   space-separated `nfsgate` binaries, each in a directory of its own (its name labels the rows)
#   ROUNDS (2)  SECS per fio job (15)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
: "${BINS:?set BINS to the nfsgate binaries to compare}"
TOOLS=$(cd "$HERE/../../shared/tools" && pwd)
W=$(mktemp -d /tmp/nfsgate-abvm.XXXX); PIDS=(); trap 'stop_all; rm -rf "$W"' EXIT
cat > "$W/guest.sh" <<G
python3 - <<'P'
import os, time
os.makedirs('d', exist_ok=True)
t = time.time()
for i in range(2000): open(f'd/f{i}', 'w').close()
c = 2000 / (time.time() - t); t = time.time()
for i in range(2000): os.unlink(f'd/f{i}')
print('create/s', round(c), 'remove/s', round(2000 / (time.time() - t)))
P
fio --name=w --rw=write --bs=1M --direct=1 --size=64M --filename=rr >/dev/null 2>&1
for rw in randread randwrite; do
    fio --name=rr --rw=\$rw --bs=4k --direct=1 --ioengine=libaio --iodepth=16 --size=64M --filename=rr --time_based \
        --runtime=${SECS:-15} --output-format=json 2>/dev/null |
        python3 -c 'import json, sys; j = json.load(sys.stdin)["jobs"][0]; print(sys.argv[1], "IOPS", round(j["read"]["iops"] + j["write"]["iops"]))' \$rw
done
G
declare -A PORT HTTP
for b in $BINS; do
    n=$(basename "$(dirname "$b")") p=$(free_port) h=$(free_port)
    NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$h "$b" serve --listen 127.0.0.1:$p --data-dir "$W/$n" </dev/null >"$W/$n.log" 2>&1 & PIDS+=($!)
    wait_port $p || { echo "$n did not start"; tail -n 5 "$W/$n.log"; exit 1; }
    PORT[$n]=$p HTTP[$n]=$h
done
for r in $(seq "${ROUNDS:-2}"); do for b in $BINS; do
    n=$(basename "$(dirname "$b")")
    out=$("$TOOLS/nfs-vm/nfs-vm" --port ${PORT[$n]} --export / --mem 1G --timeout 600 -- bash "/host$W/guest.sh" 2>"$W/vm.err")
    echo "r$r $n $(echo $out) | $(curl -s 127.0.0.1:${HTTP[$n]}/metrics | grep '^nfsgate_rpc_receive_threads ')"
done; done
