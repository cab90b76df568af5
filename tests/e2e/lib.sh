# Helpers shared by the e2e scripts (sourced, not run). Before use, the script sets W (its work directory) and may
# set E2E_TAG (the prefix of its PASS/FAIL lines). The counters pass and fail are the script's result.
pass=${pass:-0}
fail=${fail:-0}

ok()  { pass=$((pass + 1)); echo "PASS ${E2E_TAG:+$E2E_TAG: }$*"; }
bad() { fail=$((fail + 1)); echo "FAIL ${E2E_TAG:+$E2E_TAG: }$*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

check() {   # name, command... (output shown only on failure)
    local name=$1; shift
    if "$@" >"$W/check.log" 2>&1; then ok "$name"; else bad "$name"; tail -n 20 "$W/check.log" | sed 's/^/    /'; fi
}

count_guest() {   # a guest's output file → adds its PASS/FAIL lines to the totals
    pass=$((pass + $(grep -c '^PASS ' "$1")))
    fail=$((fail + $(grep -c '^FAIL ' "$1")))
}

# A TCP port nothing uses on any address, in any state. Below the ephemeral range (32768+): there an outgoing
# S3/Ceph socket can hold the port we chose (a CI start-up failed with EADDRINUSE that way).
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 12000))
        if ! ss -Htan "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
    done
    return 1
}

wait_listen() {   # port, pid, seconds → 0 once the port listens; 1 if the process died or time ran out
    for _ in $(seq 1 $(($3 * 5))); do
        kill -0 "$2" 2>/dev/null || return 1
        ss -Htln "sport = :$1" | grep -q . && return 0
        sleep 0.2
    done
    return 1
}

# config, log, nfs port, http port → starts $NFSGATE in the background and waits until both ports listen; the pid
# is left in STARTED_PID (empty if it failed). Up to 120 s: on a loaded 2-core machine the first RocksDB open and
# JIT take several seconds.
start_nfsgate() {
    local config=$1 log=$2 port=$3 http_port=$4
    "$NFSGATE" serve --config "$config" >>"$log" 2>&1 &
    STARTED_PID=$!
    if wait_listen "$http_port" "$STARTED_PID" 120 && wait_listen "$port" "$STARTED_PID" 30; then return 0; fi
    if kill -0 "$STARTED_PID" 2>/dev/null; then
        echo "nfsgate did not listen on $port and $http_port within 120 s"; kill -KILL "$STARTED_PID" 2>/dev/null
    else echo "nfsgate exited during start-up:"; tail -n 30 "$log" | sed 's/^/    /'; fi
    STARTED_PID=; return 1
}

# --- shared by the scripts that run one nfsgate on S3 with the kernel client (s3-kernel.sh, writeback-kernel.sh)
# and, in part, by run.sh and scaleout.sh. They expect ROOT, NFSVM, PORT/HTTP_PORT and SERVER_PID/S3_BUCKET as
# those scripts set them.

# The run's bucket with its objects, so runs do not pile up on the shared S3 server (Ceph's own admin tool: nfsgate
# deletes only blocks no file references, and a bucket is not its to remove). Nothing when S3_BUCKET is empty.
remove_bucket() {
    [ -n "${S3_BUCKET:-}" ] || return 0
    radosgw-admin -c "${S3_CEPH_DIR:-/tmp/s3-ceph}/ceph.conf" bucket rm --bucket="$S3_BUCKET" --purge-objects >/dev/null 2>&1 || true
}

# Keep the work dir after a failure for inspection, except on CI where disk is scarce.
remove_workdir() {
    if [ "$fail" -eq 0 ] || [ "${CI:-}" = true ]; then rm -rf "$W"; else echo "kept $W"; fi
}

# The EXIT trap of a one-server script: kill -9 the server, remove the bucket, show the server log after a failure.
cleanup_server() {
    if [ -n "${SERVER_PID:-}" ]; then kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    remove_bucket
    if [ "$fail" -ne 0 ] && [ -f "$W/server.log" ]; then
        echo "--- last lines of the server log ($W/server.log) ---"
        tail -n 40 "$W/server.log"
    fi
    remove_workdir
}

start_server() {   # $W/nfsgate.json → SERVER_PID, once both ports listen
    start_nfsgate "$W/nfsgate.json" "$W/server.log" "$PORT" "$HTTP_PORT"; local rc=$?
    SERVER_PID=$STARTED_PID; return $rc
}

# One nfs-vm boot running a guest script of tests/e2e; VM_PORT (default PORT) is the server's NFS+MOUNT port,
# VM_TIMEOUT (default 1500 s) the guest's time limit.
vm() {   # label, guest script, mode, extra nfs-vm args... → output in $W/label.out, nfs-vm's exit status
    local label=$1 script=$2 mode=$3; shift 3
    "$NFSVM" --port "${VM_PORT:-$PORT}" --mountport "${VM_PORT:-$PORT}" --export / --mem 2G --timeout "${VM_TIMEOUT:-1500}" "$@" \
        -- bash "/host$ROOT/tests/e2e/$script" "$mode" >"$W/$label.out" 2>"$W/$label.err"
}

vm_result() {   # label, nfs-vm exit status
    if [ "$2" -eq 0 ]; then ok "$1: nfs-vm mount, run, clean unmount"
    else bad "$1: nfs-vm exited $2"; grep '^nfs-vm:' "$W/$1.err" | tail -n 20 | sed 's/^/    /'; fi
}

# The write storm's source (guest-s3-storm.sh): 80 chunks of 768 KiB of random data made on the host (the emulated
# guest's /dev/urandom is slow) in $W/storm-src.bin, and their sums in $W/storm-sums.
storm_source() {   # [unit units]: 80 chunks of unit x units bytes (default 64 KiB x 12 = 768 KiB)
    local s unit=${1:-65536} units=${2:-12}
    head -c $((80 * unit * units)) /dev/urandom >"$W/storm-src.bin"
    for ((s = 0; s < 80; s++)); do
        dd if="$W/storm-src.bin" bs=$unit skip=$((s * units)) count=$units status=none | sha256sum | cut -d' ' -f1
    done >"$W/storm-sums"
}

fsynced() { local n; n=$(grep -c '^FSYNCED ' "$W/storm.out" 2>/dev/null); echo "${n:-0}"; }   # storm chunks so far
