#!/usr/bin/env bash
# QoS measurements for perf/README.md ("QoS" section). Starts its own nfsgate (fresh temp data dir, random ports),
# then, with the kernel client in nfs-vm and fio in the guest, and host-side clients (qos-load) bound to
# 127.0.0.2 / 127.0.0.3:
#   1. capped export: fio write and read without caps, then with caps of half those rates, 20 s each -> N +- 10 %
#   2. uncapped export, fio read alone; again while a host client reads the capped export flat out; and again with
#      that neighbour uncapped (for contrast)                                            -> >= 90 % of alone
#   3. two host clients from 127.0.0.2 and 127.0.0.3 on the capped export, 20 s          -> each >= 40 % of the cap
#      (nfs-vm relays every guest connection from 127.0.0.1, so two VMs would look like one client)
#   4. a host client reading flat out while the cap is lowered 40 -> 10 MiB/s at runtime -> effect within 1 s
# Usage: [CAP_MIB=N] [QOS_SECS=20] perf/qos/run.sh   Needs root (nfs-vm). Prints JSON lines. run.sh copies itself to
# a temp file first: bash reads a script as it runs, so editing it mid-run would derail the run.
set -euo pipefail
if [ -z "${QOS_RUN_COPY:-}" ]; then
    copy=$(mktemp /tmp/qos-run.XXXXXX.sh); cp "$0" "$copy"
    QOS_RUN_COPY=1 QOS_ROOT="$(cd "$(dirname "$0")/../.." && pwd)" bash "$copy" "$@"; rc=$?; rm -f "$copy"; exit $rc
fi
cd "$QOS_ROOT"
SECS=${QOS_SECS:-20}
NFSVM=../shared/tools/nfs-vm/nfs-vm
dotnet build server/NfsGate.Server -c Release -v q -nologo >/dev/null
dotnet build perf/qos/QosLoad -c Release -v q -nologo >/dev/null
DIR=$(mktemp -d /tmp/nfsgate-qos-perf.XXXXXX)
# Run copies: other builds in the shared tree must not overwrite the binaries under a running server.
cp -r server/NfsGate.Server/bin/Release/net10.0 "$DIR/server"
cp -r perf/qos/QosLoad/bin/Release/net10.0 "$DIR/load"
NFSGATE=$DIR/server/nfsgate
LOAD=$DIR/load/qos-load
PORT=$((20000 + RANDOM % 20000)); HPORT=$((PORT + 1))
cat >"$DIR/config.json" <<JSON
{ "listen": "127.0.0.1:$PORT", "portmapper": "off", "http": "127.0.0.1:$HPORT", "dataDir": "$DIR/data",
  "exports": [ { "name": "capped", "path": "/capped" }, { "name": "free", "path": "/free" } ], "log": { "level": "warning" } }
JSON
"$NFSGATE" serve --config "$DIR/config.json" >"$DIR/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null && break; sleep 0.2; done
setcap() { curl -sf -X PUT -H 'content-type: application/json' -d "$2" "http://127.0.0.1:$HPORT/admin/qos/$1" >/dev/null; }
# Under TCG on a loaded host the guest kernel sometimes panics at boot (IO-APIC timer check): nfs-vm exits 121, retry.
vm() {
    local export=$1 rc; shift
    for _ in 1 2 3; do
        rc=0; "$NFSVM" --port "$PORT" --export "$export" --timeout 300 -- /host"$PWD"/perf/qos/guest-fio.sh "$@" 2>"$DIR/vm.err" || rc=$?
        [ "$rc" = 121 ] || break
    done
    [ "$rc" = 0 ] || { cat "$DIR/vm.err" >&2; return 1; }
}
stats() { curl -sf "http://127.0.0.1:$HPORT/admin/qos/capped" | python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print(json.dumps({"case":"stats-capped", **s}))'; }
out() { echo "$1" | sed "s/^{/{\"case\":\"$2\",/"; }

# Files first, uncapped (a capped prepare would take minutes).
"$LOAD" prepare --nfs 127.0.0.1:$PORT --path /capped --size-mib 256 >/dev/null
"$LOAD" prepare --nfs 127.0.0.1:$PORT --path /free --size-mib 256 >/dev/null

# QOS_CASES picks parts: vm (kernel client), host (two clients), lower (runtime change). Default: all.
want() { [[ " ${QOS_CASES:-vm host lower} " == *" $1 "* ]]; }
if want vm; then
# Baselines without caps; the kernel-client caps are then set to half of them (unless CAP_MIB is given), so the
# emulated guest can exceed the cap however loaded the shared host is.
mib() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["mibPerSecond"])' "$1"; }
W=$(vm /capped write wfile "$SECS"); out "$W" "capped-write-uncapped-baseline"
R=$(vm /capped read data "$SECS"); out "$R" "capped-read-uncapped-baseline"
kib() { python3 -c 'import sys; c=sys.argv[1]; print(int(float(c)*1024) if c else max(256, int(float(sys.argv[2])*1024/2)))' "${1:-}" "$2"; }
WCAP=$(kib "${CAP_MIB:-}" "$(mib "$W")"); RCAP=$(kib "${CAP_MIB:-}" "$(mib "$R")")
echo "{\"case\":\"caps\",\"writeKiBPerSecond\":$WCAP,\"readKiBPerSecond\":$RCAP}"
setcap capped "{\"read\":\"${RCAP}KiB/s\",\"write\":\"${WCAP}KiB/s\"}"
out "$(vm /capped write wfile "$SECS")" "capped-write"
out "$(vm /capped read data "$SECS")" "capped-read"
stats

out "$(vm /free read data "$SECS")" "free-read-alone"
"$LOAD" read --nfs 127.0.0.1:$PORT --path /capped --from 127.0.0.2 --depth 16 --seconds $((SECS + 15)) >"$DIR/neighbour.json" &
NB=$!
out "$(vm /free read data "$SECS")" "free-read-next-to-capped-neighbour"
wait $NB; out "$(cat "$DIR/neighbour.json")" "capped-neighbour"
setcap capped '{}'
"$LOAD" read --nfs 127.0.0.1:$PORT --path /capped --from 127.0.0.2 --depth 16 --seconds $((SECS + 15)) >"$DIR/neighbour.json" &
NB=$!
out "$(vm /free read data "$SECS")" "free-read-next-to-uncapped-neighbour"
wait $NB; out "$(cat "$DIR/neighbour.json")" "uncapped-neighbour"

fi
# Host-side clients: HOST_CAP MiB/s (default 8: on a host as loaded as the one in perf/README.md they reach ~17 MiB/s
# together; the cap must bind for fairness to show).
HOST_CAP=${HOST_CAP:-8}
if want host; then
setcap capped "{\"read\":\"${HOST_CAP}MiB/s\"}"
"$LOAD" read --nfs 127.0.0.1:$PORT --path /capped --from 127.0.0.2,127.0.0.3 --depth 8 --seconds "$SECS" | while read -r l; do out "$l" "two-clients-cap${HOST_CAP}"; done
stats
fi
if want lower; then
"$LOAD" lower --nfs 127.0.0.1:$PORT --path /capped --http 127.0.0.1:$HPORT --export capped --before 40MiB/s --after "${LOWER_TO:-4}MiB/s" --at 5 --seconds 10 | while read -r l; do out "$l" "lower-at-runtime"; done
fi
