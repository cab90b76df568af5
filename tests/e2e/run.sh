#!/usr/bin/env bash
# End-to-end tests with real NFS clients against out/nfsgate (build it first: `make build`).
#   (0) config errors, the HTTP health endpoints, and SIGTERM → exit 0 on a short-lived second server,
#   (a) libnfs-utils (nfs-ls, nfs-cp) on the host,
#   (s3) the S3 data path against a real S3 server (../shared/tools/s3-ceph): nfs-cp 64 MiB in, kill -9, delete the
#       block cache, restart, nfs-cp it out and compare (no VM needed),
#   (b) the Linux kernel NFSv3 client in a QEMU VM (../shared/tools/nfs-vm), one boot for the core checks,
#       then kill -9 of the server (the boot ended with umount, so everything was COMMITted and must survive),
#       a restart on the same data dir and a second boot that verifies everything survived.
#   (c) tests/e2e/s3-kernel.sh: the kernel client on S3 with a small cache: 2 GiB fio, a write storm with kill -9.
#   (d) tests/e2e/scaleout.sh: three gateways on PostgreSQL behind HAProxy, one killed during a kernel-client storm.
#   (e) tests/e2e/prometheus.sh: Prometheus scrapes a workload; promtool checks; every dashboard expression has data.
#   (f) tests/e2e/isolation.sh: client rules, squash, quota, trash, runtime export changes.
#   (g) tests/e2e/writeback-kernel.sh: writeback COMMIT mode with the kernel client, S3 down, kill -9, replay, drain.
# Ends with "N passed, M failed"; exits non-zero on any failure.
# Environment: NFSVM (path to nfs-vm), S3CEPH (path to s3-ceph), E2E_SKIP_VM=1 (host checks only, for a quick
# local run), NFSGATE_SKIP_S3=1 (no S3 leg, as for the unit tests).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFSGATE=$ROOT/out/nfsgate
NFSVM=${NFSVM:-$ROOT/../shared/tools/nfs-vm/nfs-vm}
S3CEPH=${S3CEPH:-$ROOT/../shared/tools/s3-ceph/s3-ceph}
W=$(mktemp -d /tmp/nfsgate-e2e.XXXXXX)
pass=0
fail=0
SERVER_PID=
EXTRA_PID=
S3_BUCKET=

. "$ROOT/tests/e2e/lib.sh"


# pid → SIGTERM, then wait for a clean exit; returns the server's exit status (non-zero also for a timeout).
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; return $?; fi
        sleep 0.1
    done
    echo "nfsgate did not stop within 30 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return 124
}

# pid → kill -9 (no flush, no clean close: a crash), reaped so its ports and RocksDB lock are free again.
crash_pid() {
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

start_server() {
    start_nfsgate "$W/nfsgate.json" "$W/server.log" "$PORT" "$HTTP_PORT" || return 1
    SERVER_PID=$STARTED_PID
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local pid=$SERVER_PID
    SERVER_PID=
    stop_pid "$pid"
}

cleanup() {
    stop_server >/dev/null 2>&1
    if [ -n "$EXTRA_PID" ]; then crash_pid "$EXTRA_PID"; fi
    remove_bucket   # the S3 leg's bucket (lib.sh)
    if [ "$fail" -ne 0 ] && [ -f "$W/server.log" ]; then
        echo "--- last lines of the server log ($W/server.log) ---"
        tail -n 40 "$W/server.log"
    fi
    # Keep the work dir (server log, data) after a failure for inspection, except on CI where disk is scarce.
    if [ "$fail" -eq 0 ] || [ "${CI:-}" = true ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

http_get() {   # path → prints "STATUS BODY" (bash /dev/tcp: curl is not on a fresh Debian)
    exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    local response
    response=$(cat <&3)
    exec 3<&-
    local status body
    status=$(printf '%s' "$response" | head -n 1 | awk '{print $2}')
    body=$(printf '%s' "$response" | tr -d '\r' | awk 'found { print } /^$/ { found = 1 }')
    echo "$status $body"
}

if [ ! -x "$NFSGATE" ]; then
    echo "run.sh: $NFSGATE is missing; run 'make build' first"
    bad "out/nfsgate exists"
    echo "$pass passed, $fail failed"
    exit 1
fi

PORT=$(free_port) || { echo "no free port"; exit 1; }
HTTP_PORT=$(free_port) || { echo "no free port"; exit 1; }
cat >"$W/nfsgate.json" <<JSON
{
  // written by tests/e2e/run.sh
  "listen": "127.0.0.1:$PORT",
  "portmapper": "off",
  "http": "127.0.0.1:$HTTP_PORT",
  "dataDir": "$W/data",
  "log": { "level": "information" },
}
JSON
echo "e2e: work dir $W, nfs+mount port $PORT, http port $HTTP_PORT"

# --- (0) start-up, health, config errors ---------------------------------------------------------------
check "check-config accepts the e2e config" "$NFSGATE" check-config --config "$W/nfsgate.json"
echo '{ "exports": [ { "name": "a", "pahth": "/" } ] }' >"$W/bad.json"
check "a misspelt key fails start-up with exit 2 naming the key" \
    bash -c '"$1" serve --config "$2" >"$3" 2>&1; rc=$?; [ $rc = 2 ] && grep -q "exports\[0\].pahth: unknown key" "$3"' _ "$NFSGATE" "$W/bad.json" "$W/bad.out"

if ! start_server; then
    bad "nfsgate starts and listens"
    echo "$pass passed, $fail failed"
    exit 1
fi
ok "nfsgate starts and listens on 127.0.0.1:$PORT"
check "GET /healthz → 200 ok" bash -c '[ "$1" = "200 ok" ]' _ "$(http_get /healthz)"
check "GET /readyz → 200" bash -c '[ "${1%% *}" = 200 ]' _ "$(http_get /readyz)"

# SIGTERM on a second, short-lived server (own ports and data dir): exit 0 after an orderly shutdown. The main
# server is crashed with kill -9 instead between the VM boots below.
sigterm_check() {
    local port http_port rc
    port=$(free_port) && http_port=$(free_port) || return 1
    cat >"$W/sigterm.json" <<JSON2
{ "listen": "127.0.0.1:$port", "portmapper": "off", "http": "127.0.0.1:$http_port", "dataDir": "$W/sigterm-data" }
JSON2
    start_nfsgate "$W/sigterm.json" "$W/sigterm.log" "$port" "$http_port" || return 1
    EXTRA_PID=$STARTED_PID
    nfs-cp "$ROOT/README.md" "nfs://127.0.0.1//readme.md?version=3&nfsport=$port&mountport=$port" || return 1
    stop_pid "$EXTRA_PID"; rc=$?
    EXTRA_PID=
    [ $rc -eq 0 ] && grep -q "stopped" "$W/sigterm.log"
}
check "SIGTERM: a second server shuts down in order and exits 0" sigterm_check

# --- (a) libnfs on the host ----------------------------------------------------------------------------
URLQ="version=3&nfsport=$PORT&mountport=$PORT"
# The export is "/": libnfs mounts what precedes the last "/" of the path, so "//FILE" mounts "/" (a single "/" would mount "").
head -c $((64 << 20)) /dev/urandom >"$W/in.bin"
check "libnfs: nfs-ls of the export root" nfs-ls "nfs://127.0.0.1/?$URLQ"
check "libnfs: nfs-cp 64 MiB in" nfs-cp "$W/in.bin" "nfs://127.0.0.1//libnfs.bin?$URLQ"
check "libnfs: nfs-ls lists the file" bash -c 'nfs-ls "$1" | grep -q "libnfs.bin"' _ "nfs://127.0.0.1/?$URLQ"
check "libnfs: nfs-cp 64 MiB out" nfs-cp "nfs://127.0.0.1//libnfs.bin?$URLQ" "$W/out.bin"
check "libnfs: sha256 matches after the round trip" \
    bash -c '[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]' _ "$W/in.bin" "$W/out.bin"
rm -f "$W/out.bin"

# --- (s3) the S3 data path: nothing but S3 holds the data after a crash and a lost cache ---------------------
s3_leg() {
    local env s3port s3http url rc
    if ! env=$(bash "$S3CEPH" start 2>"$W/s3-ceph.err"); then
        bad "s3: s3-ceph start (set NFSGATE_SKIP_S3=1 to skip)"; tail -n 20 "$W/s3-ceph.err" | sed 's/^/    /'; return
    fi
    eval "$(printf '%s\n' "$env" | grep '^export S3_')"
    S3_BUCKET="nfsgate-e2e-$(date -u +%Y%m%d-%H%M%S)-$RANDOM"
    s3port=$(free_port) && s3http=$(free_port) || { bad "s3: free ports"; return; }
    cat >"$W/s3.json" <<JSON3
{
  "listen": "127.0.0.1:$s3port", "portmapper": "off", "http": "127.0.0.1:$s3http", "dataDir": "$W/s3-data",
  "objectStore": { "type": "s3", "endpoint": "$S3_ENDPOINT", "bucket": "$S3_BUCKET", "region": "$S3_REGION",
                   "prefix": "e2e/", "createBucket": true },
  "cache": { "size": "1GiB", "minFreeRatio": 0 },
}
JSON3
    # Credentials from the environment, as an operator would pass them (the SDK reads AWS_*).
    export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
    check "s3: check-config accepts the S3 config and masks the secret key" bash -c '
        NFSGATE_OBJECTSTORE__ACCESSKEY=$2 NFSGATE_OBJECTSTORE__SECRETKEY=$3 "$1" check-config --config "$4" >"$5" &&
        grep -q "\"secretKey\": \"\*\*\*\"" "$5" && ! grep -qF "$3" "$5"' _ "$NFSGATE" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$W/s3.json" "$W/s3-check.out"
    if ! start_nfsgate "$W/s3.json" "$W/s3-server.log" "$s3port" "$s3http"; then bad "s3: nfsgate starts with createBucket"; return; fi
    EXTRA_PID=$STARTED_PID
    ok "s3: nfsgate starts on bucket $S3_BUCKET"
    check "s3: the start-up log names the data path" grep -q "data path: s3://$S3_BUCKET/e2e/ .*block cache" "$W/s3-server.log"
    url="nfs://127.0.0.1//s3.bin?version=3&nfsport=$s3port&mountport=$s3port"
    check "s3: nfs-cp 64 MiB in" nfs-cp "$W/in.bin" "$url"
    if kill -0 "$EXTRA_PID" 2>/dev/null; then ok "s3: kill -9 of nfsgate (it was still running)"; else bad "s3: nfsgate died on its own"; fi
    crash_pid "$EXTRA_PID"; EXTRA_PID=
    check "s3: the block cache was filled (then deleted)" bash -c 'find "$1" -type f | grep -q . && rm -rf "$1"' _ "$W/s3-data/cache"
    if ! start_nfsgate "$W/s3.json" "$W/s3-server.log" "$s3port" "$s3http"; then bad "s3: restart after kill -9"; return; fi
    EXTRA_PID=$STARTED_PID
    ok "s3: restart after kill -9 without the cache"
    check "s3: nfs-cp 64 MiB out" nfs-cp "$url" "$W/s3-out.bin"
    check "s3: sha256 matches: every byte came back from S3" \
        bash -c '[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]' _ "$W/in.bin" "$W/s3-out.bin"
    rm -f "$W/s3-out.bin"
    stop_pid "$EXTRA_PID"; rc=$?; EXTRA_PID=
    if [ $rc -eq 0 ]; then ok "s3: SIGTERM: exit 0"; else bad "s3: SIGTERM: nfsgate exited $rc"; fi
}
if [ "${NFSGATE_SKIP_S3:-}" = 1 ]; then
    echo "NFSGATE_SKIP_S3=1: S3 checks not run"
else
    s3_leg
fi
rm -f "$W/in.bin"

# --- (b) the Linux kernel client -----------------------------------------------------------------------
run_guest() {   # label, script → runs the script in one VM boot and counts its PASS/FAIL lines
    local label=$1 script=$2 rc
    "$NFSVM" --port "$PORT" --mountport "$PORT" --export / --mem 2G --timeout 1200 \
        -e "E2E_SRC=/host$W/src-orig" -e "E2E_TAR=/host$W/src.tar" \
        -e "E2E_BIG=/host$W/big.bin" -e "E2E_BIG_SHA256=$BIG_SHA256" \
        -- bash "/host$ROOT/tests/e2e/$script" >"$W/$label.out" 2>"$W/$label.err"
    rc=$?
    cat "$W/$label.out"
    pass=$((pass + $(grep -c '^PASS ' "$W/$label.out")))
    fail=$((fail + $(grep -c '^FAIL ' "$W/$label.out")))
    if [ $rc -eq 0 ]; then ok "$label: nfs-vm mount, run, clean unmount"
    else bad "$label: nfs-vm exited $rc"; grep '^nfs-vm:' "$W/$label.err" | tail -n 20 | sed 's/^/    /'; fi
}

if [ "${E2E_SKIP_VM:-}" = 1 ]; then
    echo "E2E_SKIP_VM=1: kernel-client checks not run"
elif [ ! -x "$NFSVM" ]; then
    bad "nfs-vm found at $NFSVM"
else
    # A source tree for the tar and git checks: this repo's server/ sources (no build output).
    mkdir -p "$W/src-orig"
    (cd "$ROOT/server" && tar --exclude=bin --exclude=obj -cf - .) | tar -xf - -C "$W/src-orig"
    (cd "$W/src-orig" && tar -cf "$W/src.tar" .)
    # The 256 MiB file is made here: /dev/urandom in the emulated guest runs at a few MB/s.
    head -c $((256 << 20)) /dev/urandom >"$W/big.bin"
    BIG_SHA256=$(sha256sum <"$W/big.bin" | cut -d' ' -f1)
    run_guest "vm boot 1" guest-core.sh

    # A crash, not a shutdown: the boot ended with umount, so the kernel client COMMITted everything it wrote,
    # and committed data must survive without the orderly flush SIGTERM would give.
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        crash_pid "$SERVER_PID"; ok "kill -9 of nfsgate after vm boot 1 (it was still running)"
    else
        bad "nfsgate was no longer running after vm boot 1"
    fi
    SERVER_PID=
    if start_server; then
        ok "restart on the same data dir after kill -9"
        run_guest "vm boot 2" guest-verify.sh
    else
        bad "restart on the same data dir"
    fi
fi

stop_server; rc=$?
if [ $rc -eq 0 ]; then ok "final SIGTERM: exit 0"; else bad "final SIGTERM: nfsgate exited $rc"; fi

# Each later stage is a script of its own (own server, ports, bucket, checks), run here and counted into the totals.
stage() {   # script → its PASS/FAIL lines added to ours; a non-zero exit without a FAIL line counts as one
    NFSGATE=$NFSGATE NFSVM=$NFSVM S3CEPH=$S3CEPH bash "$ROOT/tests/e2e/$1" 2>&1 | tee "$W/$1.out"
    local rc=${PIPESTATUS[0]}
    count_guest "$W/$1.out"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$W/$1.out"; then bad "$1 exited $rc"; fi
}

# (c) the S3 data path under load with the kernel client (fio through a small cache, a write storm with kill -9);
#     skips itself under E2E_SKIP_VM=1 or NFSGATE_SKIP_S3=1.
stage s3-kernel.sh
# (d) scale-out: three gateways on one PostgreSQL behind HAProxy (PROXY v2), a gateway killed during a kernel-client
#     write storm; skips itself under NFSGATE_SKIP_PG=1 and runs host checks only under E2E_SKIP_VM=1.
stage scaleout.sh
# (e) observability: a real Prometheus scrapes nfsgate during a libnfs workload; promtool on the exposition and the
#     alert rules; every Grafana dashboard expression returns data (~1 min, no VM).
stage prometheus.sh
# (f) team isolation: client rules, squash through the kernel client, quota, trash, CLI and SIGHUP changes at
#     runtime (one VM boot, host checks only under E2E_SKIP_VM=1).
stage isolation.sh
# (g) writeback COMMIT mode with the kernel client: COMMITs answered from staging while S3 is down, kill -9, replay,
#     SIGTERM drain, every fsync'ed byte read back from S3 alone (~3 min; skips itself like (c)).
stage writeback-kernel.sh

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
