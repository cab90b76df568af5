#!/usr/bin/env bash
# 1 MiB FILE_SYNC writes (what fio's O_DIRECT sequential write sends through the kernel client) from the host, into
# nfs-ganesha on the local disk and into nfsgate on S3 (../shared/tools/s3-ceph) in each commit mode, interleaved:
# "strict" answers once the block is in S3, "writeback" once it is fsync'ed in the local staging area (uploaded in
# the background). Hand-run (perf/README.md, "Largest gaps", item 8); needs what `make bench` installs.
#   BIN (out/nfsgate)  ROUNDS (3)  SECS per load (10)  DEPTHS writes in flight ("1 4")  SIZE of the file (256M)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
TOOLS=$(cd "$HERE/../../shared/tools" && pwd)
BIN=${BIN:-$HERE/../out/nfsgate}
W=$(mktemp -d /tmp/nfsgate-abs3.XXXX); PIDS=(); BUCKETS=()
cleanup() {
    stop_all
    for b in "${BUCKETS[@]}"; do
        LG s3clean --endpoint "$S3_ENDPOINT" --bucket "$b" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" >/dev/null 2>&1
    done
    rm -rf "$W"
}
trap cleanup EXIT
build_loadgen || exit 1
if "$TOOLS/s3-ceph/s3-ceph" status >/dev/null; then eval "$("$TOOLS/s3-ceph/s3-ceph" env)"
else eval "$("$TOOLS/s3-ceph/s3-ceph" start)" || { echo "s3-ceph did not start"; exit 1; }; fi
start_ganesha
start_s3() {   # name mode -> port in NGPORT
    local b=nfsgate-ab-$$-$1; BUCKETS+=("$b"); NGPORT=$(free_port)
    cat >"$W/$1.json" <<J
{ "listen": "127.0.0.1:$NGPORT", "portmapper": "off", "http": "127.0.0.1:$(free_port)", "dataDir": "$W/$1",
  "objectStore": { "type": "s3", "bucket": "$b", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
                   "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY", "createBucket": true },
  "writes": { "commitMode": "$2" } }
J
    "$BIN" serve --config "$W/$1.json" </dev/null >"$W/$1.log" 2>&1 & PIDS+=($!)
}
start_s3 strict strict; PS=$NGPORT
start_s3 writeback writeback; PW=$NGPORT
wait_port "$GN" && wait_port "$PS" && wait_port "$PW" || { echo "a server did not start"; tail -n 5 "$W"/*.log; exit 1; }
NAME=(ganesha s3-strict s3-writeback)
TARGET=("--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export" "--nfs 127.0.0.1:$PS" "--nfs 127.0.0.1:$PW")
for k in 0 1 2; do LG write ${TARGET[$k]} --file w --size ${SIZE:-256M} >/dev/null || exit 1; done
for r in $(seq ${ROUNDS:-3}); do for d in ${DEPTHS:-1 4}; do for k in 0 1 2; do
    o=$(LG randwrite ${TARGET[$k]} --file w --block 1048576 --stable file --conns 1 --depth $d --seconds ${SECS:-10})
    echo "r$r depth $d ${NAME[$k]} $(echo "$o" | jq -r '.value|floor') MiB/s"
    sleep 2
done; done; done
