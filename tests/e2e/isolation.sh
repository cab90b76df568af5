#!/usr/bin/env bash
# Team isolation end to end (issue 4): client rules, squash, quotas, trash and runtime changes, against out/nfsgate.
#   host (libnfs): MNT refused without a matching rule, allowed with one; the `nfsgate export` CLI adds, narrows and
#     removes an export at runtime; SIGHUP applies an edited config file;
#   kernel client (nfs-vm), one boot on a root-squash export with a quota and a trash: root's new file belongs to
#     65534, root cannot chown, df shows the quota, dd past it fails with EDQUOT, and while a 24 MiB file is written
#     the host sends SIGHUP five times (rules rewritten each time, still allowing the client): the data must come back
#     intact; a removed file is then listed in the trash by the CLI, restored, and read back with libnfs.
# Ends with "N passed, M failed"; exits non-zero on any failure. E2E_SKIP_VM=1 runs the host checks only.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFSGATE=${NFSGATE:-$ROOT/out/nfsgate}
NFSVM=${NFSVM:-$ROOT/../shared/tools/nfs-vm/nfs-vm}
W=$(mktemp -d /tmp/nfsgate-iso.XXXXXX)
pass=0
fail=0
PID=

E2E_TAG=isolation
. "$ROOT/tests/e2e/lib.sh"

cleanup() {
    [ -n "$PID" ] && { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
    if [ "$fail" -ne 0 ] && [ -f "$W/server.log" ]; then echo "--- last lines of the server log ---"; tail -n 30 "$W/server.log"; fi
    if [ "$fail" -eq 0 ] || [ "${CI:-}" = true ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


PORT=$(free_port)
HTTP_PORT=$(free_port)
Q="nfsport=$PORT&mountport=$PORT"

# $1 = the "match" of team-a's rule, $2 its squash (default root); the config is rewritten, SIGHUP applies it.
write_config() {
    cat >"$W/nfsgate.json" <<JSON
{
  "listen": "127.0.0.1:$PORT", "portmapper": "off", "http": "127.0.0.1:$HTTP_PORT", "dataDir": "$W/data",
  "exports": [
    { "name": "team-a", "path": "/team-a",
      "clients": [ { "match": "$1", "access": "rw", "squash": "${2:-root}", "anonUid": 65534, "anonGid": 65534 } ],
      "quota": { "bytes": "48MiB", "inodes": 1000 }, "trash": { "retention": "1d" } },
    { "name": "denied", "path": "/denied", "clients": [ { "match": "10.0.0.0/8" } ] },
    { "name": "market", "path": "/market", "readOnly": true, "clients": [ { "match": "*", "access": "ro", "squash": "all" } ] }
  ]
}
JSON
}

write_config "127.0.0.0/8"
start_nfsgate "$W/nfsgate.json" "$W/server.log" "$PORT" "$HTTP_PORT"
PID=$STARTED_PID
check "server started" test -n "$PID"
# `nfsgate export ACTION ... --http` as one command word, usable inside the bash -c checks.
printf '#!/bin/sh\na=$1; shift\nexec "%s" export "$a" --http "127.0.0.1:%s" "$@"\n' "$NFSGATE" "$HTTP_PORT" >"$W/export"
chmod +x "$W/export"
EXPORT=("$W/export")

# --- host: MNT by rule, CLI changes, SIGHUP -------------------------------------------------------------------
check "libnfs: team-a mounts (127.0.0.0/8 rule)" nfs-ls "nfs://127.0.0.1/team-a/?$Q"
check "libnfs: denied refuses the mount (no rule matches 127.0.0.1)" bash -c '! nfs-ls "$1"' _ "nfs://127.0.0.1/denied/?$Q"
check "libnfs: read-only export refuses a write" bash -c 'echo x >"$1/x" && ! nfs-cp "$1/x" "$2"' _ "$W" "nfs://127.0.0.1/market/x?$Q"
check "CLI: export list shows the rules" bash -c '"$@" list | grep -q "team-a	/team-a	rw	clients: 127.0.0.0/8,rw,squash=root"' _ "${EXPORT[@]}"
check "CLI: export add → mountable at once" bash -c '"$@" add late /late --client "127.0.0.1,rw,squash=none" >/dev/null && nfs-ls "nfs://127.0.0.1/late/?'"$Q"'"' _ "${EXPORT[@]}"
check "CLI: export set narrows the rules → mount refused" bash -c '"$@" set late --client 10.9.0.0/16 >/dev/null && ! nfs-ls "nfs://127.0.0.1/late/?'"$Q"'"' _ "${EXPORT[@]}"
check "CLI: the change is in the config file" grep -q '"10.9.0.0/16"' "$W/nfsgate.json"
check "CLI: export remove" bash -c '"$@" remove late >/dev/null && ! "$@" list | grep -q "^late"' _ "${EXPORT[@]}"
write_config "10.0.0.0/8"
kill -HUP "$PID"
check "SIGHUP: a rule no longer matching refuses the mount" bash -c 'for i in $(seq 50); do nfs-ls "$1" >/dev/null 2>&1 || exit 0; sleep 0.1; done; exit 1' _ "nfs://127.0.0.1/team-a/?$Q"
write_config "127.0.0.0/8"
kill -HUP "$PID"
check "SIGHUP: the rule back → mounts again" bash -c 'for i in $(seq 50); do nfs-ls "$1" >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1' _ "nfs://127.0.0.1/team-a/?$Q"

# --- kernel client -------------------------------------------------------------------------------------------
if [ "${E2E_SKIP_VM:-}" = 1 ]; then
    echo "E2E_SKIP_VM=1: kernel-client checks not run"
elif [ ! -x "$NFSVM" ]; then
    bad "nfs-vm found at $NFSVM"
else
    cat >"$W/guest.sh" <<'GUEST'
set -u
fail=0
t() { if (eval "$2") >/tmp/t.log 2>&1; then echo "GUEST PASS $1"; else echo "GUEST FAIL $1"; sed 's/^/    /' /tmp/t.log; fail=1; fi; }
# Mounted while the rule says squash none: real root opens the export root for everyone (as an admin would), then
# asks the host (a file the host polls for) to switch the rule to root squash with SIGHUP, on this live mount.
t "no squash: root's file is 0:0 and root may chmod the export root" 'touch as-root && [ "$(stat -c %u:%g as-root)" = 0:0 ] && chmod 1777 .'
touch squash-now
sync
t "SIGHUP switches the live mount to root squash" 'for i in $(seq 120); do touch probe$i 2>/dev/null && [ "$(stat -c %u probe$i)" = 65534 ] && exit 0; sleep 0.5; done; exit 1'
rm -f probe* squash-now 2>/dev/null
t "root squash: root's new file is 65534:65534" '[ "$(touch by-root && stat -c %u:%g by-root)" = 65534:65534 ]'
t "root squash: squashed root cannot chown" '! chown 0:0 by-root'
t "df shows the quota (48 MiB)" '[ "$(df -B1 --output=size . | tail -n 1 | tr -d " ")" = $((48 << 20)) ]'
t "dd past the quota fails with EDQUOT" 'dd if=/dev/zero of=big bs=1M count=64 conv=fsync 2>&1 | grep -qi "quota"'
rm -f big
t "quota freed after rm" '[ "$(df -B1 --output=used . | tail -n 1 | tr -d " ")" -lt $((8 << 20)) ]'
touch reload-go  # the host starts its SIGHUPs when it sees this file in the export
sync
head -c $((24 << 20)) /dev/urandom >/tmp/src
# Copied and checked again and again until the host, done with its SIGHUPs, drops reload-done here: however fast the
# server, every reload then falls inside a write (one copy once finished before the host even saw reload-go).
t "24 MiB written and read back intact while the server reloads" 'for i in $(seq 300); do cp /tmp/src data && sync && echo 3 >/proc/sys/vm/drop_caches && cmp /tmp/src data || exit 1; [ -e reload-done ] && exit 0; done; echo "reload-done never came"; exit 1'
rm -f data reload-go reload-done
echo "keep me" >trashme.txt
sync
t "rm goes through (to the trash)" 'rm trashme.txt && [ ! -e trashme.txt ]'
exit $fail
GUEST
    write_config "127.0.0.0/8" none
    kill -HUP "$PID"
    (   # Root squash once the guest asks; then SIGHUP five times during its big write, rewriting the rule each
        # time (always allowing 127.0.0.1, always root squash).
        for _ in $(seq 1 600); do nfs-ls "nfs://127.0.0.1/team-a/?$Q" 2>/dev/null | grep -q squash-now && break; sleep 0.5; done
        write_config "127.0.0.0/8"
        kill -HUP "$PID"
        for _ in $(seq 1 600); do nfs-ls "nfs://127.0.0.1/team-a/?$Q" 2>/dev/null | grep -q reload-go && break; sleep 0.5; done
        for i in 1 2 3 4 5; do
            if [ $((i % 2)) = 1 ]; then write_config "127.0.0.1"; else write_config "127.0.0.0/8"; fi
            kill -HUP "$PID"; sleep 0.5
        done
        echo done >"$W/reload-done" && nfs-cp "$W/reload-done" "nfs://127.0.0.1/team-a/reload-done?$Q" >/dev/null
    ) &
    HUPPER=$!
    "$NFSVM" --port "$PORT" --mountport "$PORT" --export /team-a --mem 2G --timeout 900 \
        -- bash "/host$W/guest.sh" >"$W/vm.out" 2>"$W/vm.err"
    rc=$?
    kill "$HUPPER" 2>/dev/null; wait "$HUPPER" 2>/dev/null
    while read -r line; do
        case "$line" in
            "GUEST PASS "*) ok "kernel: ${line#GUEST PASS }" ;;
            "GUEST FAIL "*) bad "kernel: ${line#GUEST FAIL }" ;;
        esac
    done <"$W/vm.out"
    if [ $rc -eq 0 ]; then ok "kernel: nfs-vm mount, run, clean unmount"
    else bad "kernel: nfs-vm exited $rc"; grep -v '^GUEST PASS' "$W/vm.out" | tail -n 20 | sed 's/^/    /'; grep '^nfs-vm:' "$W/vm.err" | tail -n 10 | sed 's/^/    /'; fi
    check "SIGHUP reloads were applied during the write" bash -c '[ "$(grep -c "configuration reloaded" "$1")" -ge 9 ]' _ "$W/server.log"
    check "CLI: trash lists the removed file" bash -c '"$@" trash team-a | grep -q "trashme.txt"' _ "${EXPORT[@]}"
    id=$("${EXPORT[@]}" trash team-a | awk -F'\t' '$6 == "trashme.txt" { print $1 }' | head -n 1)
    check "CLI: restore puts it back" "${EXPORT[@]}" restore team-a "${id:-none}"
    check "libnfs: the restored file has its data" bash -c '[ "$(nfs-cat "$1")" = "keep me" ]' _ "nfs://127.0.0.1/team-a/trashme.txt?$Q"
fi

echo "isolation: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
