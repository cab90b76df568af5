#!/usr/bin/env bash
# End-to-end tests with real NFS clients against out/nfsgate (build it first: `make build`).
#   (0) the HTTP health endpoints and graceful shutdown,
#   (a) libnfs-utils (nfs-ls, nfs-cp) on the host,
#   (b) the Linux kernel NFSv3 client in a QEMU VM (../shared/tools/nfs-vm), one boot for the core checks,
#       then a server restart on the same data dir and a second boot that verifies everything survived.
# Ends with "N passed, M failed"; exits non-zero on any failure.
# Environment: NFSVM (path to nfs-vm), E2E_SKIP_VM=1 (host checks only, for a quick local run).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFSGATE=$ROOT/out/nfsgate
NFSVM=${NFSVM:-$ROOT/../shared/tools/nfs-vm/nfs-vm}
W=$(mktemp -d /tmp/nfsgate-e2e.XXXXXX)
pass=0
fail=0
SERVER_PID=

ok()  { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() {   # name, command... (output shown only on failure)
    local name=$1; shift
    if "$@" >"$W/check.log" 2>&1; then ok "$name"; else bad "$name"; tail -n 20 "$W/check.log" | sed 's/^/    /'; fi
}

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
    done
    return 1
}

start_server() {
    "$NFSGATE" serve --config "$W/nfsgate.json" >>"$W/server.log" 2>&1 &
    SERVER_PID=$!
    # Up to 120 s: on a loaded 2-core machine the first RocksDB open and JIT take several seconds.
    for _ in $(seq 1 600); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "nfsgate exited during start-up:"; tail -n 30 "$W/server.log" | sed 's/^/    /'
            SERVER_PID=; return 1
        fi
        if ss -Htln "sport = :$PORT" | grep -q . && ss -Htln "sport = :$HTTP_PORT" | grep -q .; then return 0; fi
        sleep 0.2
    done
    echo "nfsgate did not listen on $PORT within 120 s"; return 1
}

# SIGTERM, then wait for a clean exit; returns the server's exit status (non-zero also for a timeout).
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local pid=$SERVER_PID
    SERVER_PID=
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; return $?; fi
        sleep 0.1
    done
    echo "nfsgate did not stop within 30 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return 124
}

cleanup() {
    stop_server >/dev/null 2>&1
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

    stop_server; rc=$?
    if [ $rc -eq 0 ]; then ok "SIGTERM: graceful shutdown, exit 0"; else bad "SIGTERM: nfsgate exited $rc"; fi
    if start_server; then
        ok "restart on the same data dir"
        run_guest "vm boot 2" guest-verify.sh
    else
        bad "restart on the same data dir"
    fi
fi

stop_server; rc=$?
if [ $rc -eq 0 ]; then ok "final SIGTERM: exit 0"; else bad "final SIGTERM: nfsgate exited $rc"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
