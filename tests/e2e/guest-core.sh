#!/bin/bash
# Runs INSIDE the nfs-vm guest, in /mnt/nfs (the kernel NFSv3 client's mount of nfsgate's "/" export).
# Prints one "PASS name" or "FAIL name" line per check; tests/e2e/run.sh counts them.
# Environment: E2E_SRC = a host directory tree (as /host/...), E2E_TAR = a tar of that same tree,
# E2E_BIG = a 256 MiB random host file (as /host/...), E2E_BIG_SHA256 = its sha256 in hex.
set -u
cd /mnt/nfs || { echo "FAIL cd /mnt/nfs"; exit 1; }
LOG=/tmp/check.log

check() {   # name, command...
    local name=$1 start=$SECONDS; shift
    if "$@" >"$LOG" 2>&1; then
        echo "PASS $name ($((SECONDS - start)) s)"
    else
        echo "FAIL $name ($((SECONDS - start)) s)"
        tail -n 20 "$LOG" | sed 's/^/    /'
    fi
}

big_file() {
    # 256 MiB through the page cache and back; drop_caches forces the read to come from the server. The random
    # data is made on the host (the emulated guest CPU makes /dev/urandom very slow) and staged in guest /tmp.
    cp "$E2E_BIG" /tmp/big.bin &&
    cp /tmp/big.bin big.bin && sync &&
    echo 3 > /proc/sys/vm/drop_caches &&
    echo "$E2E_BIG_SHA256  big.bin" > big.sha256 &&
    sha256sum -c big.sha256 &&
    [ "$(stat -c %s big.bin)" = 268435456 ]
}

deep_tree() {
    local p=deep
    for i in $(seq 1 20); do p=$p/d$i; done
    mkdir -p "$p" && echo leaf > "$p/leaf.txt" && [ "$(cat "$p/leaf.txt")" = leaf ] &&
    [ "$(find deep -type d | wc -l)" = 21 ]
}

rename() {
    mkdir -p mvsrc/sub && echo moved > mvsrc/sub/f &&
    mv mvsrc moved && [ ! -e mvsrc ] && [ "$(cat moved/sub/f)" = moved ] &&
    mv moved/sub/f moved/g && [ ! -e moved/sub/f ] && [ "$(cat moved/g)" = moved ] &&
    # Rename over an existing file replaces it.
    echo other > moved/h && mv moved/g moved/h && [ "$(cat moved/h)" = moved ] && [ ! -e moved/g ]
}

hard_link() {
    echo linked > link-a && ln link-a link-b &&
    [ "$(stat -c %h link-a)" = 2 ] && [ "$(stat -c %i link-a)" = "$(stat -c %i link-b)" ] &&
    echo more >> link-b && [ "$(tail -n 1 link-a)" = more ]
}

symlink() {
    ln -s some/target/path sym && [ "$(readlink sym)" = some/target/path ] &&
    ln -s link-a sym2 && [ "$(cat sym2 | head -n 1)" = linked ] && [ -L sym ]
}

modes() {
    echo x > modefile && chmod 0640 modefile && [ "$(stat -c %a modefile)" = 640 ] &&
    chmod 4755 modefile && [ "$(stat -c %a modefile)" = 4755 ] &&
    mkdir modedir && chmod 0700 modedir && [ "$(stat -c %a modedir)" = 700 ]
}

owners() {
    echo x > ownfile && chown 1234:5678 ownfile && [ "$(stat -c %u:%g ownfile)" = 1234:5678 ] &&
    chown 0:0 ownfile && [ "$(stat -c %u:%g ownfile)" = 0:0 ]
}

truncation() {
    printf 'hello world' > trunc && truncate -s 5 trunc && [ "$(cat trunc)" = hello ] &&
    truncate -s 8192 trunc && [ "$(stat -c %s trunc)" = 8192 ] &&
    echo 3 > /proc/sys/vm/drop_caches &&
    [ "$(head -c 5 trunc)" = hello ] &&
    # The grown part must read back as zeros (no /dev/fd in the guest, so no process substitution).
    [ "$(tail -c +6 trunc | wc -c)" = 8187 ] && [ "$(tail -c +6 trunc | tr -d '\0' | wc -c)" = 0 ]
}

remove_tree() {
    mkdir -p rmme/a/b/c && touch rmme/a/1 rmme/a/b/2 rmme/a/b/c/3 && ln -s x rmme/s &&
    rm -rf rmme && [ ! -e rmme ]
}

many_files() {
    mkdir many && cd many || return 1
    for i in $(seq 1 10000); do : > "f$i" || return 1; done
    cd .. &&
    # ls -l prints a "total" line plus one line per file.
    [ "$(ls -l many | wc -l)" = 10001 ] && [ "$(ls many | wc -l)" = 10000 ]
}

tar_tree() {
    mkdir src && tar -xf "$E2E_TAR" -C src && diff -r "$E2E_SRC" src
}

git_repo() {
    mkdir repo && cd repo || return 1
    git init -q && cp -r "$E2E_SRC"/. . && git add -A &&
    git -c user.name=e2e -c user.email=e2e@example.invalid commit -q -m "first" &&
    echo change >> README.e2e && git add README.e2e &&
    git -c user.name=e2e -c user.email=e2e@example.invalid commit -q -m "second" &&
    [ "$(git rev-list --count HEAD)" = 2 ] && git fsck --no-progress && [ -z "$(git status --porcelain)" ]
    local rc=$?
    cd /mnt/nfs
    return $rc
}

check "kernel: 256 MiB write and read back, sha256" big_file
check "kernel: mkdir -p 20 deep" deep_tree
check "kernel: mv (dirs, files, over existing)" rename
check "kernel: ln (hard link count and shared data)" hard_link
check "kernel: ln -s + readlink" symlink
check "kernel: chmod" modes
check "kernel: chown numeric" owners
check "kernel: truncate shrink and grow (zeros)" truncation
check "kernel: rm -rf" remove_tree
check "kernel: 10,000 files + ls -l | wc -l" many_files
check "kernel: tar extract + diff -r" tar_tree
check "kernel: git init/add/commit/fsck" git_repo
