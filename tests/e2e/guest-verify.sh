#!/bin/bash
# Runs INSIDE the nfs-vm guest after the host restarted nfsgate on the same data dir: everything guest-core.sh
# left behind must still be there, byte for byte.
set -u
cd /mnt/nfs || { echo "FAIL cd /mnt/nfs"; exit 1; }
LOG=/tmp/check.log

check() {
    local name=$1 start=$SECONDS; shift
    if "$@" >"$LOG" 2>&1; then
        echo "PASS $name ($((SECONDS - start)) s)"
    else
        echo "FAIL $name ($((SECONDS - start)) s)"
        tail -n 20 "$LOG" | sed 's/^/    /'
    fi
}

deep_leaf() {
    local p=deep
    for i in $(seq 1 20); do p=$p/d$i; done
    [ "$(cat "$p/leaf.txt")" = leaf ]
}

check "after restart: 256 MiB sha256" sha256sum -c big.sha256
check "after restart: 20-deep tree" deep_leaf
check "after restart: renamed file" test "$(cat moved/h)" = moved
check "after restart: hard link count" test "$(stat -c %h link-a)" = 2
check "after restart: symlink" test "$(readlink sym)" = some/target/path
check "after restart: mode and owner" test "$(stat -c %a:%u:%g modefile)" = 4755:0:0
check "after restart: 10,000 files" test "$(ls many | wc -l)" = 10000
check "after restart: tar tree diff -r" diff -r "$E2E_SRC" src
check "after restart: git fsck + log" bash -c 'cd repo && git fsck --no-progress && test "$(git rev-list --count HEAD)" = 2'
check "after restart: new write after remount" bash -c 'echo again > after-restart && test "$(cat after-restart)" = again'
