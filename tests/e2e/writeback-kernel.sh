#!/usr/bin/env bash
# Writeback commit mode (writes.commitMode "writeback") with the Linux kernel NFS client (../shared/tools/nfs-vm)
# against out/nfsgate on a real S3 server (../shared/tools/s3-ceph):
#   (1) with S3 unreachable (the endpoint points at a closed port), fio writes WB_FIO_SIZE (default 64m)
#       sequentially in 1 MiB blocks, then WB_FIO_OVERWRITES random 4 KiB overwrites, with fsync: every COMMIT is
#       answered from the staging journal alone (fsync'ed locally; the uploads fail and wait); then nfsgate is
#       kill -9'ed and its block cache deleted, so the data exists only as staged records;
#   (2) restarted with S3 back, the records are replayed; a new boot checks every byte (guest-s3-fio.sh verify),
#       and the staging directory empties (everything reached S3);
#   (3) an orderly stop (SIGTERM) right after more fsync'ed writes: exit 0 with nothing left staged (the graceful
#       drain uploads it); then cache and staging deleted, a last boot checks those bytes from S3 alone.
# Run by tests/e2e/run.sh as stage (g), or alone. Ends with "N passed, M failed"; exits non-zero on any failure. Environment: NFSGATE (server
# binary), NFSVM, S3CEPH (tool paths), NFSGATE_SKIP_S3=1 or E2E_SKIP_VM=1 (skip), WB_FIO_SIZE, WB_FIO_OVERWRITES.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFSGATE=${NFSGATE:-$ROOT/out/nfsgate}
NFSVM=${NFSVM:-$ROOT/../shared/tools/nfs-vm/nfs-vm}
S3CEPH=${S3CEPH:-$ROOT/../shared/tools/s3-ceph/s3-ceph}
FIO_SIZE=${WB_FIO_SIZE:-64m}
FIO_OVERWRITES=${WB_FIO_OVERWRITES:-300}
STORM_CHUNKS=8
VM_TIMEOUT=1200   # lib.sh's vm
pass=0
fail=0
E2E_TAG=writeback

. "$ROOT/tests/e2e/lib.sh"

if [ "${NFSGATE_SKIP_S3:-}" = 1 ] || [ "${E2E_SKIP_VM:-}" = 1 ]; then
    echo "writeback-kernel: NFSGATE_SKIP_S3=1 or E2E_SKIP_VM=1: not run"
    finish
fi
if [ ! -x "$NFSGATE" ]; then bad "$NFSGATE exists (run 'make build' first)"; finish; fi
if [ ! -x "$NFSVM" ]; then bad "nfs-vm found at $NFSVM"; finish; fi

W=$(mktemp -d /tmp/nfsgate-wbk.XXXXXX)
SERVER_PID=
S3_BUCKET=

trap cleanup_server EXIT   # lib.sh
trap 'exit 130' INT TERM

staged() { find "$W/staging" -name '*.stg' 2>/dev/null | wc -l; }

# --- setup ---------------------------------------------------------------------------------------------------
if ! env=$(bash "$S3CEPH" start 2>"$W/s3-ceph.err"); then
    bad "s3-ceph start (set NFSGATE_SKIP_S3=1 to skip)"; tail -n 20 "$W/s3-ceph.err" | sed 's/^/    /'
    finish
fi
eval "$(printf '%s\n' "$env" | grep '^export S3_')"
S3_BUCKET="nfsgate-wbk-$(date -u +%Y%m%d-%H%M%S)-$RANDOM"
PORT=$(free_port) && HTTP_PORT=$(free_port) || { bad "free ports"; finish; }
DOWN_PORT=$(free_port) || { bad "free ports"; finish; }
config() {   # endpoint, createBucket → $W/nfsgate.json
    cat >"$W/nfsgate.json" <<JSON
{
  // written by tests/e2e/writeback-kernel.sh
  "listen": "127.0.0.1:$PORT", "portmapper": "off", "http": "127.0.0.1:$HTTP_PORT", "dataDir": "$W/data",
  "objectStore": { "type": "s3", "endpoint": "$1", "bucket": "$S3_BUCKET", "region": "$S3_REGION",
                   "prefix": "wbk/", "createBucket": $2, "maxRetries": 0, "requestTimeout": "5s" },
  "cache": { "path": "$W/cache", "size": "256MiB", "minFreeRatio": 0 },
  "writes": { "commitMode": "writeback", "stagingPath": "$W/staging" },
}
JSON
}
sigterm() {   # label → stops $SERVER_PID in order; PASS if it exits 0 within 60 s
    local pid=$SERVER_PID src; SERVER_PID=
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then bad "$1: nfsgate did not stop within 60 s of SIGTERM"; kill -KILL "$pid"; wait "$pid" 2>/dev/null
    else wait "$pid"; src=$?; if [ $src -eq 0 ]; then ok "$1: SIGTERM: exit 0"; else bad "$1: SIGTERM: nfsgate exited $src"; fi; fi
}
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
echo "writeback-kernel: work dir $W, port $PORT, bucket $S3_BUCKET, fio size $FIO_SIZE"
t0=$SECONDS
config "$S3_ENDPOINT" true   # creates the bucket
if ! start_server; then bad "nfsgate starts in writeback mode on S3"; finish; fi
ok "nfsgate starts in writeback mode on bucket $S3_BUCKET"
sigterm "bucket created"
config "http://127.0.0.1:$DOWN_PORT" false   # nothing listens there: every upload fails
if ! start_server; then bad "nfsgate starts with S3 unreachable"; finish; fi
ok "nfsgate starts with S3 unreachable (127.0.0.1:$DOWN_PORT)"

# --- (1) fio with fsync, kill -9 right after ------------------------------------------------------------------
start=$SECONDS
vm "fio write" guest-s3-fio.sh write -e "E2E_FIO_SIZE=$FIO_SIZE" -e "E2E_FIO_OVERWRITES=$FIO_OVERWRITES"
rc=$?
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
left=$(staged)
grep -v '^OVERWRITE ' "$W/fio write.out"
count_guest "$W/fio write.out"
vm_result "fio write" $rc
grep '^OVERWRITE ' "$W/fio write.out" | cut -d' ' -f2 >"$W/overwrites"
echo "writeback-kernel: fio write boot took $((SECONDS - start)) s; $left records staged at the kill -9"
if [ "$left" -gt 0 ]; then ok "with S3 down the fsync'ed data is staged: $left records"; else bad "nothing staged with S3 down"; fi
rm -rf "$W/cache"
config "$S3_ENDPOINT" false

# --- (2) replay, verify, drain ----------------------------------------------------------------------------------
if ! start_server; then bad "restart after kill -9"; finish; fi
ok "kill -9 with $left records staged, cache deleted, restarted"
start=$SECONDS
vm "fio verify" guest-s3-fio.sh verify -e "E2E_FIO_SIZE=$FIO_SIZE" -e "E2E_FIO_OVERWRITES=$FIO_OVERWRITES" \
    -e "E2E_OVERWRITES=/host$W/overwrites"
rc=$?
cat "$W/fio verify.out"
count_guest "$W/fio verify.out"
vm_result "fio verify" $rc
echo "writeback-kernel: fio verify boot took $((SECONDS - start)) s"
for _ in $(seq 1 600); do [ "$(staged)" -eq 0 ] && break; sleep 0.1; done
if [ "$(staged)" -eq 0 ]; then ok "the replayed records are all uploaded (staging directory empty)"
else bad "$(staged) records still staged 60 s after the verify"; fi

# --- (3) fsync'ed writes, SIGTERM at once: the graceful stop drains ---------------------------------------------
storm_source   # lib.sh
vm storm guest-s3-storm.sh write -e "E2E_STORM_SRC=/host$W/storm-src.bin" -e "E2E_STORM_SUMS=/host$W/storm-sums" \
    -e "E2E_STORM_WRITERS=2" -e "E2E_STORM_CHUNKS=$STORM_CHUNKS"
rc=$?
left=$(staged)
sigterm "after the storm, $left records staged"
grep -v '^FSYNCED ' "$W/storm.out"
count_guest "$W/storm.out"
vm_result storm $rc
if [ "$(staged)" -eq 0 ]; then ok "nothing left staged after the graceful stop"
else bad "$(staged) records left staged after the graceful stop"; fi
grep -E 'staged writeback records|every staged writeback record' "$W/server.log" | tail -n 3 | sed 's/^/    /'

# Cache and staging gone: the last boot can only read S3.
rm -rf "$W/cache" "$W/staging"
if start_server; then
    grep '^FSYNCED ' "$W/storm.out" >"$W/storm.log"
    vm "storm check" guest-s3-storm.sh check -e "E2E_STORM_LOG=/host$W/storm.log"
    rc=$?
    cat "$W/storm check.out"
    count_guest "$W/storm check.out"
    vm_result "storm check" $rc
else
    bad "restart after the graceful stop"
fi
echo "writeback-kernel: total $((SECONDS - t0)) s"
finish
