#!/bin/bash
# Runs INSIDE the nfs-vm guest, in /mnt/nfs (the kernel NFSv3 client's mount of nfsgate on S3).
#   guest-s3-storm.sh write  E2E_STORM_WRITERS writers in parallel, each writing E2E_STORM_CHUNKS chunks of 768 KiB
#                            into its own file, each chunk with dd conv=fsync (fsync: the kernel client sends COMMIT).
#                            After every fsync that returned success it prints
#                            "FSYNCED file offset length sha256" to stdout, which streams to the host as it happens:
#                            the host kill -9s nfsgate in the middle and restarts it, and keeps these lines.
#   guest-s3-storm.sh check  (a later boot) every range that a FSYNCED line names holds exactly those bytes.
# 768 KiB (12 x 64 KiB) is not a divisor of nfsgate's 4 MiB blocks, so chunks straddle block boundaries.
# Environment: E2E_STORM_SRC (a random host file of at least 80 chunks, as /host/...), E2E_STORM_SUMS (its chunks'
# sha256, one a line), E2E_STORM_WRITERS, E2E_STORM_CHUNKS, E2E_STORM_LOG (check: the FSYNCED lines, as /host/...).
set -u
cd /mnt/nfs || { echo "FAIL cd /mnt/nfs"; exit 1; }
# E2E_STORM_UNIT x E2E_STORM_UNITS is one chunk (default 64 KiB x 12 = 768 KiB); the host's storm_source must match.
UNIT=${E2E_STORM_UNIT:-65536}
UNITS=${E2E_STORM_UNITS:-12}
SRC_CHUNKS=80

writer() {   # writer number → prints FSYNCED lines; exit status non-zero if any chunk failed
    local w=$1 i s failed=0
    for ((i = 0; i < E2E_STORM_CHUNKS; i++)); do
        # Each writer starts at a different source chunk, so neighbouring chunks and files hold different bytes.
        s=$(((i * E2E_STORM_WRITERS + w) % SRC_CHUNKS))
        if dd if=/tmp/src.bin of="storm-$w.bin" bs=$UNIT skip=$((s * UNITS)) seek=$((i * UNITS)) count=$UNITS \
               conv=notrunc,fsync status=none 2>"/tmp/dd-$w.err"; then
            echo "FSYNCED storm-$w.bin $((i * UNITS * UNIT)) $((UNITS * UNIT)) ${SUMS[s]}"
        else
            echo "storm: writer $w chunk $i: dd failed: $(head -c 300 "/tmp/dd-$w.err")"
            failed=1
        fi
    done
    return $failed
}

storm() {
    local w pids=() failed=0 start=$SECONDS
    # The source is staged in guest RAM: reading it over 9p while the storm runs would slow the writers unevenly.
    cp "$E2E_STORM_SRC" /tmp/src.bin || { echo "FAIL storm: stage the source"; return; }
    mapfile -t SUMS <"$E2E_STORM_SUMS"
    for ((w = 0; w < E2E_STORM_WRITERS; w++)); do
        writer "$w" &
        pids+=($!)
    done
    for w in "${!pids[@]}"; do
        wait "${pids[$w]}" || failed=$((failed + 1))
    done
    if [ $failed -eq 0 ]; then
        echo "PASS storm: $E2E_STORM_WRITERS writers x $E2E_STORM_CHUNKS fsync'ed chunks of $((UNIT * UNITS / 1024)) KiB, none failed ($((SECONDS - start)) s)"
    else
        echo "FAIL storm: $failed of $E2E_STORM_WRITERS writers had a failed write or fsync ($((SECONDS - start)) s)"
    fi
}

check_log() {
    local file off len sum got n=0 bad=0 start=$SECONDS
    # A plain file, not < <(...): the guest has no /dev/fd.
    grep '^FSYNCED ' "$E2E_STORM_LOG" >/tmp/fsynced
    while read -r _ file off len sum; do
        n=$((n + 1))
        got=$(dd if="$file" bs=$UNIT skip=$((off / UNIT)) count=$((len / UNIT)) status=none | sha256sum | cut -d' ' -f1)
        if [ "$got" != "$sum" ]; then
            bad=$((bad + 1))
            [ $bad -le 10 ] && echo "    $file offset $off length $len: sha256 $got, fsync'ed $sum"
        fi
    done </tmp/fsynced
    if [ $n -gt 0 ] && [ $bad -eq 0 ]; then
        echo "PASS storm: after kill -9 and restarts: all $n fsync'ed ranges intact ($((SECONDS - start)) s)"
    else
        echo "FAIL storm: after kill -9 and restarts: $bad of $n fsync'ed ranges differ ($((SECONDS - start)) s)"
    fi
}

case "${1:-}" in
write) storm ;;
check) check_log ;;
*) echo "FAIL guest-s3-storm.sh: unknown mode '${1:-}'"; exit 1 ;;
esac
