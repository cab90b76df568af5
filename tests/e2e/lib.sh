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
