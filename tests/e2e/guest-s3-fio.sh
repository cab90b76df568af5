#!/bin/bash
# Runs INSIDE the nfs-vm guest, in /mnt/nfs (the kernel NFSv3 client's mount of nfsgate on S3 with a small cache).
#   guest-s3-fio.sh write   fio writes E2E_FIO_SIZE sequentially in 1 MiB blocks, then E2E_FIO_OVERWRITES random
#                           4 KiB overwrites, each with fsync at the end; prints one "OVERWRITE offset" line per
#                           overwritten block for the host to keep.
#   guest-s3-fio.sh verify  (a later boot, server restarted with an empty cache) checks every byte of the file.
# Why two verify types: every 4 KiB fio writes carries a header with its own offset and a checksum of the whole 4 KiB,
# so a read pass over the file proves each 4 KiB is the right block at the right place. The sequential blocks are md5
# blocks, the overwrites xxhash blocks, so (1) replaying the overwrite job with --verify_only proves each overwrite is
# there (an overwrite lost to stale data would be an md5 block and fail), and (2) the md5 pass over the whole file must
# fail on exactly the overwritten offsets and nowhere else.
# Why these types and a fixed fill pattern: the guest CPU is emulated, and fio's random fill and its crc32c (an emulated
# SSE4.2 instruction) made the guest, not the server, the bottleneck: md5 over a pattern was 2.5x faster than crc32c
# over random data (256 MiB write + verify in guest tmpfs: 16 s vs 41 s). The header still makes every block unique.
# Prints one "PASS name" or "FAIL name" line per check; tests/e2e/s3-kernel.sh counts them.
# Environment: E2E_FIO_SIZE (fio size, e.g. 2g), E2E_FIO_OVERWRITES (count), E2E_OVERWRITES (verify: host file with
# the expected offsets, one a line, as /host/...).
set -u
cd /mnt/nfs || { echo "FAIL cd /mnt/nfs"; exit 1; }
LOG=/tmp/check.log
FILE=big.fio
# The seed fixes the overwrite offsets, so the verify boot can replay the same job.
RAND=(--name=overwrite "--filename=$FILE" "--size=$E2E_FIO_SIZE" --rw=randwrite --bs=4k "--number_ios=$E2E_FIO_OVERWRITES"
      --randseed=20261129 --ioengine=psync --fallocate=none --verify=xxhash --verify_pattern=0xa55aa55a)

check() {   # name, command...
    local name=$1 start=$SECONDS; shift
    if "$@" >"$LOG" 2>&1; then
        echo "PASS $name ($((SECONDS - start)) s)"
    else
        echo "FAIL $name ($((SECONDS - start)) s)"
        tail -n 20 "$LOG" | sed 's/^/    /'
    fi
}

# fallocate=none: NFSv3 has no ALLOCATE, and glibc's emulation would write a byte into every block first.
# Buffered with end_fsync, as an application writes: the kernel client sends UNSTABLE WRITEs and COMMITs.
sequential_write() {
    fio --name=seq "--filename=$FILE" "--size=$E2E_FIO_SIZE" --rw=write --bs=1M --ioengine=psync --fallocate=none \
        --end_fsync=1 --verify=md5 --verify_interval=4096 --verify_pattern=0x5aa55aa5 --do_verify=0
}

overwrite() {
    fio "${RAND[@]}" --end_fsync=1 --do_verify=1 --verify_fatal=1 --write_iolog=/tmp/overwrite.iolog &&
    awk '$3 == "write" { print "OVERWRITE " $4 }' /tmp/overwrite.iolog | sort -u -k2,2n >/tmp/overwrites &&
    [ "$(wc -l </tmp/overwrites)" = "$E2E_FIO_OVERWRITES" ]
}

overwrites_intact() {
    fio "${RAND[@]}" --verify_only --verify_fatal=1
}

# fio reports a bad 4 KiB block as "... at file big.fio offset N ..." (checksum, header offset or magic): collect N.
everything_else_intact() {
    local want=$1
    fio --name=all "--filename=$FILE" "--size=$E2E_FIO_SIZE" --rw=read --bs=1M --ioengine=psync \
        --verify=md5 --verify_interval=4096 --verify_pattern=0x5aa55aa5 --continue_on_error=verify >/tmp/all.out 2>&1 || { tail -n 20 /tmp/all.out; return 1; }
    grep -o "at file $FILE offset [0-9]*" /tmp/all.out | awk '{ print $NF }' | sort -n >/tmp/got
    sort -n "$want" >/tmp/want
    echo "$(wc -l </tmp/got) blocks differ from the sequential pass, $(wc -l </tmp/want) overwrites expected"
    diff /tmp/want /tmp/got >/tmp/diff || { echo "offsets that differ (< missing overwrite, > bad block):"; head -n 20 /tmp/diff; return 1; }
}

size_of() { stat -c %s "$FILE"; }
bytes() { numfmt --from=iec "${E2E_FIO_SIZE^^}"; }

case "${1:-}" in
write)
    check "s3 fio: sequential write $E2E_FIO_SIZE, 1 MiB blocks, md5 per 4 KiB" sequential_write
    check "s3 fio: $E2E_FIO_OVERWRITES random 4 KiB overwrites (xxhash), read back" overwrite
    [ -f /tmp/overwrites ] && cat /tmp/overwrites
    check "s3 fio: file size is $E2E_FIO_SIZE" test "$(size_of)" = "$(bytes)"
    ;;
verify)
    check "s3 fio: after restart with an empty cache: file size is $E2E_FIO_SIZE" test "$(size_of)" = "$(bytes)"
    check "s3 fio: after restart: every overwrite is intact (fio --verify_only)" overwrites_intact
    check "s3 fio: after restart: every other 4 KiB block is the sequential write's, in place" everything_else_intact "$E2E_OVERWRITES"
    ;;
*)
    echo "FAIL guest-s3-fio.sh: unknown mode '${1:-}'"; exit 1 ;;
esac
