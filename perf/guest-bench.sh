#!/usr/bin/env bash
# Runs INSIDE the nfs-vm guest, in /mnt/nfs (the export under test), started by perf/bench.sh. Prints one JSON line
# per measurement: {"metric":..., "value":..., "unit":...}. Sizes come from the environment (bench.sh sets them):
#   SEQ_MB     size of the sequential file (1 job), split evenly over 4 files for the 4-job runs
#   RAND_S     seconds of each 4 KiB random run (on the sequential file), and of each sequential read
#   META_N     files created, stat'ed and removed in the metadata run
#   HOT_S      seconds of the 16-reader run over the file "hot" (written beforehand from the host)
#   LS_DIR     directory of LS_N entries (made beforehand from the host) listed with ls -l, for at most LS_TIMEOUT s
#   GUEST_ONLY fio | meta | ls | hot: run just that part (a probe of one step; bench.sh runs them all)
# Every run starts with the guest's page cache dropped, and data runs use O_DIRECT, so the server is measured,
# not the guest's memory.
set -uo pipefail
PY=/usr/bin/python3
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
emit() { printf '{"metric":"%s","value":%s,"unit":"%s"}\n' "$1" "$2" "$3"; }
# fio terse v3: field 7/8 = read KiB/s, IOPS; 48/49 = write KiB/s, IOPS (one line with --group_reporting)
fio_run() {   # metric, unit (MB/s | IOPS), fio options...
    local m=$1 u=$2; shift 2
    drop
    echo "#begin $m"   # bench.sh reads the servers' counters here and again at the JSON line
    local line; line=$(fio --name="$m" --output-format=terse --terse-version=3 --group_reporting "$@" 2>/dev/null | tail -n 1)
    [ -n "$line" ] || { emit "$m" 0 "$u"; return; }
    echo "$line" | awk -F';' -v m="$m" -v u="$u" '{ r = $7 > 0; v = (u == "IOPS") ? (r ? $8 : $49) : (r ? $7 : $48) * 1.024 / 1000;
        printf "{\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"%s\"}\n", m, v, u }'
}
part() { [ -z "${GUEST_ONLY:-}" ] || [ "$GUEST_ONLY" = "$1" ]; }
D="--direct=1 --ioengine=psync --bs=1M"
if part fio; then
fio_run seq-write-1j MB/s --rw=write $D --filename=seq1 --size=${SEQ_MB}M --end_fsync=1
# Reads run for RAND_S seconds (passes over the file): one pass of SEQ_MB took 1-2 s, a sample too short to compare
# (a one-pass host warm read of 1 GiB, 0.5 s, read 0.62-0.80x ganesha where 8 s read 0.96-1.18x; perf/README.md run U).
# Writes stay one pass: a second pass would measure overwrites, not the first write of a file.
fio_run seq-read-1j  MB/s --rw=read  $D --filename=seq1 --size=${SEQ_MB}M --time_based --runtime=$RAND_S
fio_run seq-write-4j MB/s --rw=write $D --numjobs=4 --filename_format='seq4.$jobnum' --size=$((SEQ_MB / 4))M --end_fsync=1
fio_run seq-read-4j  MB/s --rw=read  $D --numjobs=4 --filename_format='seq4.$jobnum' --size=$((SEQ_MB / 4))M --time_based --runtime=$RAND_S
R="--direct=1 --ioengine=libaio --iodepth=16 --bs=4k --filename=seq1 --size=${SEQ_MB}M --time_based --runtime=$RAND_S"
fio_run randread-4k  IOPS --rw=randread  $R
fio_run randwrite-4k IOPS --rw=randwrite $R
rm -f seq1 seq4.*
fi
if part meta; then
drop
$PY - "$META_N" <<'PYEOF'
import os, sys, time
n = int(sys.argv[1]); os.mkdir("meta"); names = [f"meta/m{i:06d}" for i in range(n)]
def phase(metric, fn):
    print("#begin " + metric, flush=True)
    t = time.monotonic()
    for p in names: fn(p)
    print('{"metric":"%s","value":%.1f,"unit":"ops/s"}' % (metric, n / (time.monotonic() - t)), flush=True)
phase("meta-create", lambda p: os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)))
with open("/proc/sys/vm/drop_caches", "w") as f: f.write("3\n")
phase("meta-stat", os.stat)
phase("meta-remove", os.unlink)
os.rmdir("meta")
PYEOF
fi
if part ls; then
drop
# Time-boxed: the kernel client's listing of 100,000 entries on ganesha once ran for over 20 min (perf/README.md).
# A listing still running after LS_TIMEOUT s is killed, and the row says so: "timed_out": true, and the value is
# LS_N / LS_TIMEOUT, an upper bound on the rate (the listing would have taken longer than LS_TIMEOUT).
n=$LS_N
echo "#begin ls-l"
s=$(date +%s.%N); timeout -k 10 "${LS_TIMEOUT:-300}" ls -l "$LS_DIR" >/dev/null; rc=$?; e=$(date +%s.%N)
awk -v n=$n -v s=$s -v e=$e -v rc=$rc -v t="${LS_TIMEOUT:-300}" 'BEGIN {
    if (rc == 124 || rc == 137) printf "{\"metric\":\"ls-l\",\"value\":%.1f,\"unit\":\"entries/s\",\"entries\":%d,\"timed_out\":true,\"seconds_at_least\":%d}\n", n / t, n, t
    else printf "{\"metric\":\"ls-l\",\"value\":%.1f,\"unit\":\"entries/s\",\"entries\":%d,\"seconds\":%.1f}\n", n / (e - s), n, e - s }'
fi
if part hot; then
    # One unmeasured pass first, so the 16 readers find the file where a hot file is: in the server's memory. It was
    # last read minutes before, and this machine's kernel pages out file pages idle for a minute: in run AJ every
    # server read 250-450 MiB of it from its disk during the host's READ 16c (perf/README.md).
    dd if=hot of=/dev/null bs=1M iflag=direct status=none
    fio_run hot-16readers MB/s --rw=read $D --numjobs=16 --filename=hot --time_based --runtime=$HOT_S
fi
