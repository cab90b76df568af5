#!/usr/bin/env bash
# make bench: nfs-ganesha (VFS FSAL on the local disk) and nfsgate (embedded defaults, and again with the S3 backend
# on ../shared/tools/s3-ceph) side by side on this machine, the same workloads against each, interleaved so drift
# hits all of them:
#   - the kernel client in nfs-vm runs perf/guest-bench.sh (fio sequential/random, small-file metadata, ls -l of a
#     big directory (time-boxed by LS_TIMEOUT: a cut-off listing is a bound, marked "<=" in the table and
#     "timed_out" in the JSON), 16 readers of one hot file);
#   - perf/NfsGate.LoadGen on the host: GETATTR/LOOKUP ops/s over 64 connections, 1 MiB READs over 16, 4 KiB FILE_SYNC WRITEs 16 deep;
#   - issue 3 (S3 leg only): cold read vs raw S3 GET, warm read vs ganesha, S3 bytes fetched per byte with 16 readers
#     of a cold file (counted by a relay in front of S3 that only our nfsgate uses).
# Prints a table (nfsgate ÷ ganesha per round, as ranges) and writes perf/results/bench-<time>.json.
#   BENCH_QUICK=1   smaller sizes, one round                  BENCH_ROUNDS=N   rounds (default 2, quick 1)
#   BENCH_S3=0      skip the S3 leg                           KEEP=1           keep the work directory
#   BENCH_VM=0      skip the nfs-vm workloads (host-side loads and issue 3 only)
#   BENCH_ONLY=issue3  only the issue 3 measurements (no host loads, no big directory; implies BENCH_VM=0)
#   BENCH_BIN=DIR   the nfsgate build to measure (default out/), e.g. an older `dotnet publish -o DIR` for an A/B
#   BENCH_PERF="ROW..."  profile these host-side rows (e.g. cold-read-1c) with `perf record -g` on their server, and keep
#                   each one's summary (perf/fold.py) as perf/results/bench-<time>-perf-ROW-N.txt; the nfsgate servers then
#                   run with the JIT's perf map (DOTNET_PerfMapEnabled=1). Needs linux-perf (installed if missing).
# Needs root (nfs-vm), apt packages nfs-ganesha nfs-ganesha-vfs rpcbind fio jq procps curl (installed if missing), `make build`.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TOOLS=$(cd "$ROOT/../shared/tools" && pwd)
QUICK=${BENCH_QUICK:-0}
# Sizes. Under TCG emulation the guest moves roughly 20-60 MB/s and runs ~500-2,000 metadata calls/s, so these keep a
# full run (2 rounds x 3 servers) near 20 min on the 2-core machine; the host-side loads are not limited by the guest.
# LS_TIMEOUT bounds the ls -l of the big directory (guest-bench.sh): a listing cut off there is reported as a bound.
if [ "$QUICK" = 1 ]; then
    SEQ_MB=64 RAND_S=5 META_N=1000 LS_N=10000 LS_TIMEOUT=120 HOT_MB=256 HOT_S=5 OPS_S=3 ROUNDS=${BENCH_ROUNDS:-1}
else
    SEQ_MB=256 RAND_S=10 META_N=10000 LS_N=100000 LS_TIMEOUT=300 HOT_MB=1024 HOT_S=10 OPS_S=8 ROUNDS=${BENCH_ROUNDS:-2}
fi
WITH_S3=${BENCH_S3:-1} WITH_VM=${BENCH_VM:-1} ONLY=${BENCH_ONLY:-} BIN=${BENCH_BIN:-$ROOT/out} PERF_ROWS=${BENCH_PERF:-}
[ "$ONLY" = issue3 ] && WITH_VM=0

[ -x "$BIN/nfsgate" ] || { echo "bench: $BIN/nfsgate missing: run make build"; exit 1; }

. "$HERE/lib.sh"   # stop, stop_all, free_port, wait_port, ticks, build_loadgen, LG, start_ganesha, install_packages
install_packages nfs-ganesha nfs-ganesha-vfs rpcbind fio jq procps curl ${PERF_ROWS:+linux-perf} || { echo "bench: cannot install what it needs"; exit 1; }
W=$(mktemp -d /tmp/nfsgate-bench.XXXXXX)
# Private copies: other engineers may rebuild out/ while the benchmark runs.
cp -r "$BIN" "$W/bin"
echo "bench: building perf/NfsGate.LoadGen"
build_loadgen || exit 1
RES=$W/results.jsonl
: >"$RES"

PIDS=()
cleanup() {
    stop_all
    # Our bucket on the shared Ceph: remove it, its OSD is a 16 GiB file everyone shares.
    [ -n "${BUCKET:-}" ] && [ -n "${S3_ENDPOINT:-}" ] &&
        LG s3clean --endpoint "$S3_ENDPOINT" --bucket "$BUCKET" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" >/dev/null
    [ -n "${KEEP:-}" ] && echo "bench: kept $W" || rm -rf "$W"
}
trap cleanup EXIT

# ---- servers ----
start_ganesha || exit 1   # lib.sh: GN, GM, GPID (ganesha with its default cache settings: see there why)

N1=$(free_port) H1=$(free_port)
# The same 4 GiB block cache as nfsgate-s3 (the default is 1 GiB): with a 1 GiB hot file a 1 GiB cache thrashes, and
# every "warm" read copied each block into a new cache file (a profile of run K's warm read: 50% of nfsgate's samples
# in the page-cache copy of cache-file writes, 23% in reads), at 0.44-0.56x ganesha.
# perf names managed frames only from the JIT's map, which the runtime writes only if asked at start.
[ -n "$PERF_ROWS" ] && export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
NFSGATE_CACHE__SIZE=4GiB NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$H1 "$W/bin/nfsgate" serve --listen 127.0.0.1:$N1 --data-dir "$W/ng-local" \
    </dev/null >"$W/ng-local.log" 2>&1 & NPID1=$!; PIDS+=($NPID1)

SERVERS=(ganesha nfsgate)
if [ "$WITH_S3" = 1 ]; then
    # `start` is idempotent but runs the ceph CLI health checks (slow on a loaded machine): skip it when S3 answers.
    if "$TOOLS/s3-ceph/s3-ceph" status; then eval "$("$TOOLS/s3-ceph/s3-ceph" env)"
    else eval "$("$TOOLS/s3-ceph/s3-ceph" start)" || { echo "bench: s3-ceph did not start"; exit 1; }; fi
    BUCKET=nfsgate-bench-$$-$RANDOM
    # The relay counts the bytes S3 sends to this nfsgate (and to the raw-GET tool, which reads through it too,
    # so both pay the same extra hop).
    coproc RELAY { exec dotnet "$W/loadgen/nfsgate-loadgen.dll" s3relay --upstream "${S3_ENDPOINT#http://}"; }
    PIDS+=($RELAY_PID)
    read -r -t 60 -u "${RELAY[0]}" RPORT || { echo "bench: s3 relay did not start"; exit 1; }
    S3_VIA=http://127.0.0.1:$RPORT
    s3count() { echo >&"${RELAY[1]}"; local c; read -r -t 10 -u "${RELAY[0]}" c; echo "$c"; }
    N2=$(free_port) H2=$(free_port)
    cat >"$W/ng-s3.json" <<EOF
{
  "listen": "127.0.0.1:$N2", "portmapper": "off", "http": "127.0.0.1:$H2", "dataDir": "$W/ng-s3",
  "objectStore": { "type": "s3", "bucket": "$BUCKET", "endpoint": "$S3_VIA", "region": "$S3_REGION",
                   "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY", "createBucket": true },
  // room for the hot file plus what fio writes, so the issue 3 measurements see no eviction
  "cache": { "size": "4GiB" },
}
EOF
    "$W/bin/nfsgate" serve --config "$W/ng-s3.json" </dev/null >"$W/ng-s3.log" 2>&1 & NPID2=$!; PIDS+=($NPID2)
    SERVERS+=(nfsgate-s3)
fi
unset DOTNET_PerfMapEnabled DOTNET_EnableWriteXorExecute   # the servers only, not the load generator

for p in $GN $GM $N1 ${N2:-}; do
    wait_port $p || { echo "bench: nothing listens on $p"; tail -n 20 "$W"/*.log; exit 1; }
done
echo "bench: ganesha :$GN (mount :$GM), nfsgate :$N1${N2:+, nfsgate-s3 :$N2 via S3 relay :$RPORT}; work dir $W"

target() {   # loadgen target options of a server
    case $1 in
        ganesha) echo "--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export" ;;
        nfsgate) echo "--nfs 127.0.0.1:$N1" ;;
        nfsgate-s3) echo "--nfs 127.0.0.1:$N2" ;;
    esac
}
vmargs() {
    case $1 in
        ganesha) echo "--port $GN --mountport $GM --export $W/ganesha/export" ;;
        nfsgate) echo "--port $N1 --export /" ;;
        nfsgate-s3) echo "--port $N2 --export /" ;;
    esac
}
record() {   # server round: tags the JSON lines on stdin and appends them to the results
    jq -c --arg s "$1" --argjson r "$2" '. + {server: $s, round: $r}' | tee -a "$RES" |
        jq -r '"  \(.server) r\(.round) \(.metric): \(.value) \(.unit)"'
}

# ---- data the workloads need, written through NFS from the host so every server gets it the same way ----
HOT_BYTES=$((HOT_MB << 20))
for s in "${SERVERS[@]}"; do
    echo "bench: setup $s (hot file $HOT_MB MiB$([ "$ONLY" = issue3 ] || echo ", directory of $LS_N files"))"
    LG write $(target $s) --file hot --size ${HOT_MB}M | record "$s" 0 || exit 1
    if [ "$s" = nfsgate-s3 ]; then   # the hot file's block objects, for the raw GET comparison
        LG s3get --endpoint "$S3_VIA" --bucket "$BUCKET" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" \
            --save-keys "$W/hot.keys" >/dev/null || exit 1
    fi
    [ "$ONLY" = issue3 ] || LG mkfiles $(target $s) --dir big --count $LS_N | record "$s" 0 || exit 1
    # the host-side random writes' own file, so they never fragment the hot file the issue 3 reads measure
    [ "$ONLY" = issue3 ] || LG write $(target $s) --file rw --size 64M | jq -c '.metric = "setup-write-rw"' | record "$s" 0 || exit 1
done

evict() { "$W/bin/nfsgate" warmup --export default --evict --http 127.0.0.1:$H2 / >/dev/null 2>&1 || echo "  warmup --evict failed"; }
# Two unmeasured cold reads of another file before round 1. The first reads through a freshly started nfsgate run
# its read path through the JIT: tiered compilation took 45% and 52% of nfsgate's CPU samples in the first and
# second cold 256 MiB reads after a start, and their CPU was 2.6-4.1 s and 1.5-2.9 s against 0.8-1.6 s from the
# third on (perf record, 2026-11-29 23:00-23:25); round 1's cold-read-1c ran at 0.55x the raw GET where round 2's
# ran at 0.97x. ganesha is native code, and a gateway serves for days. Only that file is evicted: the hot file
# stays as written.
if [ "$WITH_S3" = 1 ]; then
    # 256 MiB is 64 blocks a pass: with 16 (a 64 MiB file, until 2026-11-30) the per-block methods had been called
    # ~32 times by round 1, barely at tiering's threshold of 30, and round 1's cold read still ran at 0.68x round 2's.
    echo "bench: warm-up (unmeasured): 256 MiB written, then read cold twice through nfsgate-s3"
    LG write $(target nfsgate-s3) --file warm --size 256M >/dev/null || echo "  warm-up write failed"
    for pass in 1 2; do
        "$W/bin/nfsgate" warmup --export default --evict --http 127.0.0.1:$H2 /warm >/dev/null &&
            LG read $(target nfsgate-s3) --file warm --conns 1 --depth 4 >/dev/null || echo "  warm-up read $pass failed"
    done
fi

# What each server and the machine did while the guest ran one measurement: guest-bench.sh prints "#begin METRIC"
# just before each one starts, and the counters are read again when its JSON line arrives (the guest's output streams
# to the host as it is written); `measured` does the same around a host load. Every row gets row_s (wall seconds),
# server_cpu_s, machine_cpu_s (all processes: guest, load generator, Ceph too), host_busy (fraction of all cores busy),
# host_steal (fraction stolen by the hypervisor) and server_rss_mib (at the row's end); nfsgate's rows also get its
# block cache hits and misses, GC pauses and gen-2 collections, and the mean time its READs and WRITEs took inside
# the server (read_ms, write_ms). These tell a
# slower row's cause apart: more CPU per byte, a busier machine, cache misses, or time spent outside the server.
hport() { case $1 in nfsgate) echo "$H1" ;; nfsgate-s3) echo "${H2:-}" ;; esac; }
snap() {   # server: its CPU ticks, /proc/stat busy total steal, the time, its RSS, then for nfsgate 14 counters from /metrics
    local h; h=$(hport "$1")
    {
        ticks "${SPID[$1]}"
        awk -v now="$(date +%s.%N)" '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9, $9, now }' /proc/stat
        rss_kib ${SPID[$1]}
        minflt ${SPID[$1]}
        disk_read ${SPID[$1]}
        awk '/^pgalloc_(dma32|normal|movable) / { a += $2 } END { printf "%.0f\n", a }' /proc/vmstat
        [ -n "$h" ] && curl -s --max-time 5 "127.0.0.1:$h/metrics" | awk '
            /^nfsgate_cache_hits_total / { h = $2 } /^nfsgate_cache_misses_total / { m = $2 }
            /^dotnet_gc_pause_seconds_total / { p = $2 } /^dotnet_collection_count_total\{generation="2"\}/ { g = $2 }
            /^nfsgate_nfs_request_duration_seconds_(count|sum)\{.*proc="(READ|read)"/ { if ($1 ~ /_count/) rc += $2; else rs += $2 }
            /^nfsgate_nfs_request_duration_seconds_(count|sum)\{.*proc="(WRITE|write)"/ { if ($1 ~ /_count/) wc += $2; else ws += $2 }
            /^dotnet_gc_committed_bytes / { gc = $2 } /^dotnet_gc_heap_size_bytes\{/ { gh += $2 }
            /^nfsgate_metadata_(memtable|block_cache)_bytes / { kv += $2 }
            /^nfsgate_cache_fetches_total / { cf = $2 } /^nfsgate_cache_recycled_fills_total / { rf = $2 }
            /^nfsgate_cache_skipped_for_space_total / { sk = $2 }
            END { print h + 0, m + 0, p + 0, g + 0, rc + 0, rs + 0, wc + 0, ws + 0, gc + 0, gh + 0, kv + 0, cf + 0, rf + 0, sk + 0 }'
    } | tr '\n' ' '
}
disk_read() { local p t=0 v; for p in "$@"; do v=$(awk '/^read_bytes:/ { print $2 }' "/proc/$p/io" 2>/dev/null) && t=$((t + ${v:-0})); done; echo $t; }
minflt() { local p t=0 v; for p in "$@"; do v=$(awk '{ print $10 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + ${v:-0})); done; echo $t; }
rss_kib() { local p t=0 v; for p in "$@"; do v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null) && t=$((t + ${v:-0})); done; echo $t; }
row_stats() {   # begin-snapshot end-snapshot: a JSON object of the differences (and the server's RSS at the end)
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x); split(b, y); t = y[3] - x[3]; if (t <= 0) t = 1
        printf "{\"row_s\":%.2f,\"server_cpu_s\":%.2f,\"machine_cpu_s\":%.2f,\"host_busy\":%.3f,\"host_steal\":%.3f,\"server_rss_mib\":%.0f", y[5] - x[5], (y[1] - x[1]) / 100, (y[2] - x[2]) / 100, (y[2] - x[2]) / t, (y[4] - x[4]) / t, y[6] / 1024
        # Memory the row touched for the first time: the server minor page faults, and the pages the whole machine
        # allocated (page cache, socket buffers, any process), in MiB. On this VM free pages go back to the host, so an
        # allocation may cost the host a first touch too (perf/README.md, "Why the cold read costs more").
        # And what the server read from the disk (read_bytes of /proc/PID/io): a warm read should read nothing, and
        # one that does found its cache files paged out (this kernel pages out file pages idle for a minute).
        printf ",\"server_minflt\":%d,\"server_disk_read_mib\":%.1f,\"machine_alloc_mib\":%.0f", y[7] - x[7], (y[8] - x[8]) / 1048576, (y[9] - x[9]) * 4096 / 1048576
        for (i = 7; i + 3 <= n; i++) { x[i] = x[i + 3]; y[i] = y[i + 3] }
        n -= 3
        if (n >= 14) {
            printf ",\"cache_hits\":%d,\"cache_misses\":%d,\"gc_pause_s\":%.3f,\"gen2_gcs\":%d", y[7] - x[7], y[8] - x[8], y[9] - x[9], y[10] - x[10]
            if (y[11] > x[11]) printf ",\"read_ms\":%.3f", (y[12] - x[12]) / (y[11] - x[11]) * 1000
            if (y[13] > x[13]) printf ",\"write_ms\":%.3f", (y[14] - x[14]) / (y[13] - x[13]) * 1000
            # Where the RSS is at the end of the row: memory committed by the GC, the heap after the last collection,
            # and the memtables plus block cache of RocksDB (the rest is code, stacks, native buffers, mapped files).
            if (n >= 17) printf ",\"gc_committed_mib\":%.0f,\"gc_heap_mib\":%.0f,\"kv_mem_mib\":%.0f", y[15] / 1048576, y[16] / 1048576, y[17] / 1048576
            # Fetches from the object store, and cache files written over a kept file rather than a new one.
            if (n >= 19) printf ",\"cache_fetches\":%d,\"recycled_fills\":%d", y[18] - x[18], y[19] - x[19]
            # Fills the cache skipped because its disk had less than cache.minFreeRatio free: then a "cold" or
            # "warm" read refetches from S3 (a run on a nearly full disk read 2-14 S3 bytes per byte).
            if (n >= 20 && y[20] > x[20]) printf ",\"cache_skipped_for_space\":%d", y[20] - x[20]
        }
        print "}" }'
}
vm_round() {   # server round
    local rc try
    # On an overloaded host the emulated guest kernel sometimes panics at boot ("IO-APIC + timer doesn't work"):
    # nfs-vm exits 121 before anything ran, so one more boot is safe.
    for try in 1 2; do
        "$TOOLS/nfs-vm/nfs-vm" $(vmargs $1) --mem 1G --timeout 1500 \
            -e SEQ_MB=$SEQ_MB -e RAND_S=$RAND_S -e META_N=$META_N -e HOT_S=$HOT_S -e LS_DIR=big -e LS_N=$LS_N -e LS_TIMEOUT=$LS_TIMEOUT \
            -- bash "$HERE/guest-bench.sh" 2>"$W/vm-$1-$2.err" | {
            begin=
            while IFS= read -r line; do
                case $line in
                    '#begin '*) begin=$(snap "$1") ;;
                    '{'*) if [ -n "$begin" ]; then
                              echo "$line" | jq -c --argjson x "$(row_stats "$begin" "$(snap "$1")")" '. + $x'
                          else echo "$line"; fi
                          begin= ;;
                esac
            done; } | record "$1" "$2"
        rc=${PIPESTATUS[0]}
        [ $rc = 121 ] || break
        echo "  nfs-vm: the guest did not boot (121), retrying"
    done
    [ $rc = 0 ] || { echo "  nfs-vm against $1 exited $rc:"; grep -v '^nfs-vm: warning' "$W/vm-$1-$2.err" | tail -n 10; }
}
measured() {   # server command...: runs a host load and adds the same counters as the kernel-client rows to its JSON line
    local server=$1 begin out row="" a prev="" pp="" data; shift
    for a in "$@"; do [ "$prev" = --label ] && row=$a; prev=$a; done
    if [ -n "$row" ] && [[ " $PERF_ROWS " == *" $row "* ]]; then   # BENCH_PERF
        data=$W/perf-$row-$(ls "$W" | grep -c "^perf-$row-.*\.data$").data
        perf record -F 999 -g -o "$data" -p "$(echo ${SPID[$server]} | tr ' ' ,)" >/dev/null 2>&1 & pp=$!
        sleep 0.5
    fi
    begin=$(snap "$server")
    out=$("$@")
    echo "$out" | jq -c --argjson x "$(row_stats "$begin" "$(snap "$server")")" '. + $x'
    if [ -n "$pp" ]; then
        kill -INT $pp; wait $pp
        perf script -i "$data" 2>/dev/null | python3 "$HERE/fold.py" /dev/stdin >"${data%.data}.txt"
    fi
}
# Host loads run every server back to back, half of OPS_S each in the round's order, then the other half in the reverse
# order (A B C C B A); a server's two halves make its row. Why: this VM's speed drifts by 20-40% over minutes (the same
# server reading the same cached file ran at 1,657 and 2,379 MB/s on the same CPU in run AH), and until run AI each
# server ran its host loads right after its own kernel-client step, minutes from the others'. Back to back, a drift
# hits every server alike; in A B C C B A order, a steady drift hits each one equally. The merged row: value weighted
# by each half's seconds (the rate over the whole time), counts and CPU summed, means and shares averaged, memory at
# the end; "halves" keeps the two values.
HALF_MERGE='if length < 2 then .[] else .[0] as $a | .[1] as $b | ($a.seconds // 1) as $sa | ($b.seconds // 1) as $sb | $b + {
    value: ((($a.value * $sa + $b.value * $sb) / ($sa + $sb)) * 1000 | round / 1000), halves: [$a.value, $b.value] }
  + (reduce ("seconds", "row_s", "server_cpu_s", "machine_cpu_s", "cache_hits", "cache_misses", "gc_pause_s", "gen2_gcs",
      "server_minflt", "server_disk_read_mib", "machine_alloc_mib", "bytes", "errors", "failed", "cache_fetches", "recycled_fills",
      "cache_skipped_for_space") as $k ({}; if $a[$k] != null and $b[$k] != null then . + {($k): (($a[$k] + $b[$k]) * 1000 | round / 1000)} else . end))
  + (reduce ("host_busy", "host_steal", "read_ms", "write_ms") as $k ({};
      if $a[$k] != null and $b[$k] != null then . + {($k): (($a[$k] + $b[$k]) / 2)} else . end)) end'
halves() {   # round servers... -- LG command and its arguments (the target and --seconds are added)
    local r=$1 s i; shift
    local -a servers=() seq=()
    while [ "$1" != -- ]; do servers+=("$1"); shift; done; shift
    seq=("${servers[@]}"); for ((i = ${#servers[@]} - 1; i >= 0; i--)); do seq+=("${servers[$i]}"); done
    for s in "${servers[@]}"; do : >"$W/half-$s"; done
    for s in "${seq[@]}"; do
        # Reads of the hot file start after one unmeasured pass over it (see warm-read below): in run AJ every server
        # read 250-450 MiB from the disk during READ 16c, its file idle since the kernel-client step.
        [[ " $* " == *" --label warm-read-1c "* || " $* " == *" --label read-16c "* ]] && LG read $(target "$s") --conns 1 --depth 4 >/dev/null
        measured "$s" LG "$1" $(target "$s") "${@:2}" --seconds "$HALF_S" >>"$W/half-$s"
    done
    for s in "${servers[@]}"; do jq -cs "$HALF_MERGE" "$W/half-$s" | record "$s" "$r"; done
}
HALF_S=$(awk -v s="$OPS_S" 'BEGIN { print s / 2 }')
host_round() {   # round: every server in this round's order ($order)
    halves "$1" "${order[@]}" -- ops --op getattr --conns 64 --depth 4
    halves "$1" "${order[@]}" -- ops --op lookup --conns 64 --depth 4
    halves "$1" "${order[@]}" -- read --conns 16 --depth 4 --label read-16c
    # 4 KiB FILE_SYNC writes, 16 in flight on one connection: what fio's O_DIRECT randwrite sends, deeper than the
    # guest keeps. Not in halves: nfsgate compacts after it, which would slow the next server's half; each server
    # runs its whole OPS_S after a settle instead.
    for s in "${order[@]}"; do
        settle "randwrite-$s" "$1"
        measured "$s" LG randwrite $(target "$s") --file rw --conns 1 --depth 16 --seconds $OPS_S --label randwrite-4k-16d | record "$s" "$1"
        [ "$s" = nfsgate-s3 ] && S3_WRITES_END=$SECONDS
    done
}
# Background work of nfsgate-s3 that reads from S3 inside a counting window (the relay counts every byte): the
# inline sweep (15-45 s after a load's small writes) and compaction. Recorded with the bytes-per-byte rows.
background() { curl -s "127.0.0.1:$H2/metrics" | awk '/^nfsgate_(inline_sweeps|compactions)_total / { n += $2 } END { print n + 0 }'; }
# The warm read: one reader for OPS_S s over the hot file (each pass is under a second), in halves like the host loads.
# Each half starts after one unmeasured pass (in halves()), so the row measures what its name says: every server
# serving the file from memory. This machine's kernel pages out file pages idle for 60 s (DAMON, see perf/README.md
# "Run AD"), so without it the server whose file sat idle longest read part of it from disk (0.55-0.96x in run AD).
issue3_round() {   # round
    local r=$1 c0 c1 b0 s3="--endpoint $S3_VIA --bucket $BUCKET --access-key $S3_ACCESS_KEY --secret-key $S3_SECRET_KEY"
    # The same concurrency on both sides: one reader keeps 4 READs and the gateway up to 4 prefetches
    # (ReadAheadConcurrency) in flight, so raw GET runs with 4 GETs in flight.
    evict; c0=$(s3count) b0=$(background)
    measured nfsgate-s3 LG read $(target nfsgate-s3) --conns 1 --depth 4 --label cold-read-1c | record nfsgate-s3 "$r"
    c1=$(s3count)
    echo "{\"metric\":\"s3-bytes-per-byte-1c\",\"value\":$(awk -v a=$c0 -v b=$c1 -v n=$HOT_BYTES 'BEGIN{printf "%.4f", (b-a)/n}'),\"unit\":\"ratio\",\"s3_bytes\":$((c1 - c0)),\"background_rewrites\":$(( $(background) - b0 ))}" | record nfsgate-s3 "$r"
    measured s3 LG s3get $s3 --keys "$W/hot.keys" --conns 4 --label raw-get-4c | record s3 "$r"
    measured s3 LG s3get $s3 --keys "$W/hot.keys" --conns 4 --ranged --label raw-get-4c-ranged | record s3 "$r"
    measured s3 LG s3get $s3 --keys "$W/hot.keys" --conns 1 --label raw-get-1c | record s3 "$r"
    halves "$r" nfsgate-s3 ganesha nfsgate -- read --conns 1 --depth 4 --label warm-read-1c
    evict; c0=$(s3count) b0=$(background)
    measured nfsgate-s3 LG read $(target nfsgate-s3) --conns 16 --depth 4 --label cold-read-16c | record nfsgate-s3 "$r"
    c1=$(s3count)
    echo "{\"metric\":\"s3-bytes-per-byte-16c\",\"value\":$(awk -v a=$c0 -v b=$c1 -v n=$HOT_BYTES 'BEGIN{printf "%.4f", (b-a)/n}'),\"unit\":\"ratio\",\"s3_bytes\":$((c1 - c0)),\"background_rewrites\":$(( $(background) - b0 ))}" | record nfsgate-s3 "$r"
}

# nfsgate keeps working after a load returns: compaction folds the random writes' slices into blocks (about 11x
# their bytes, see perf/README.md "Why random writes stay below ganesha"), the inline sweep, the delete queue. On 2
# shared cores that work slows whatever step runs next, on any server. So before every measured step each server must
# have been quiet (under 5% of a core for 2 s, all at once), for at most SETTLE_MAX s; how long each one kept working is
# recorded as "settle" (s, with the step it preceded), so the background cost stays in the results, not in the next row.
SETTLE_MAX=${SETTLE_MAX:-240}
declare -A SPID=([ganesha]=$GPID [nfsgate]=$NPID1)
# "s3" is Ceph (monitor, OSD, gateway) and the counting relay: they share the 2 cores too, and deleting or writing
# objects leaves them busy after a step (they idle under 1 tick/s). Its rows are the raw GETs.
[ "$WITH_S3" = 1 ] && SPID[nfsgate-s3]=$NPID2 SPID[s3]="$(pgrep -d ' ' -x 'ceph-mon|ceph-osd|radosgw') $RELAY_PID"
settle() {   # step round
    local t0=$SECONDS s busy
    local -A last=() before=()
    for s in "${!SPID[@]}"; do last[$s]=0; done
    while :; do
        for s in "${!SPID[@]}"; do before[$s]=$(ticks "${SPID[$s]}"); done
        sleep 2
        busy=0
        for s in "${!SPID[@]}"; do
            if [ $(( $(ticks "${SPID[$s]}") - before[$s] )) -gt 10 ]; then busy=1; last[$s]=$((SECONDS - t0)); fi
        done
        [ $busy = 0 ] && break
        [ $((SECONDS - t0)) -ge "$SETTLE_MAX" ] && { echo "  settle: a server is still busy after $SETTLE_MAX s, going on"; break; }
    done
    for s in "${!SPID[@]}"; do
        [ "${last[$s]}" -gt 0 ] && echo "{\"metric\":\"settle\",\"value\":${last[$s]},\"unit\":\"s\",\"before\":\"$1\"}" | record "$s" "$2"
    done
}

START=$(date +%s)
for r in $(seq "$ROUNDS"); do
    # Rotate the order each round so no server always runs first (cold machine) or last.
    order=("${SERVERS[@]:$(((r - 1) % ${#SERVERS[@]}))}" "${SERVERS[@]:0:$(((r - 1) % ${#SERVERS[@]}))}")
    for s in "${order[@]}"; do
        if [ "$WITH_VM" = 1 ]; then
            settle "vm-$s" "$r"
            echo "bench: round $r/$ROUNDS, $s: kernel client in nfs-vm ($(( $(date +%s) - START )) s)"
            vm_round "$s" "$r"
        fi
    done
    if [ "$ONLY" != issue3 ]; then
        settle host "$r"
        echo "bench: round $r/$ROUNDS: host load generator (${order[*]}, then back)"
        host_round "$r"
    fi
    if [ "$WITH_S3" = 1 ]; then
        # The issue-3 rows count every byte nfsgate-s3 reads from S3. Its 4 KiB random writes leave inline bytes that
        # the sweep moves into objects 30-45 s later (a 15 s timer), reading the chunk's blocks back from S3 once the
        # step has evicted them: in two runs where nfsgate-s3's loads came last, 16 readers counted 1.055-1.059 bytes
        # per byte (30 sweeps and compactions inside the window where counted; 1.000 otherwise). So the step starts
        # 50 s after those writes.
        wait_s=$(( ${S3_WRITES_END:-0} + 50 - SECONDS ))
        if [ "$ONLY" != issue3 ] && [ "$wait_s" -gt 0 ]; then
            echo "bench: waiting $wait_s s for nfsgate-s3's inline sweep"; sleep "$wait_s"
        fi
        settle issue3 "$r"
        echo "bench: round $r/$ROUNDS: issue 3 (cold/warm S3 reads)"
        issue3_round "$r"
    fi
done

# Peak resident memory (VmHWM) of each server over the whole run.
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$1/status 2>/dev/null || echo 0; }
echo "{\"metric\":\"peak-rss\",\"value\":$(hwm $GPID),\"unit\":\"MiB\"}" | record ganesha 0
echo "{\"metric\":\"peak-rss\",\"value\":$(hwm $NPID1),\"unit\":\"MiB\"}" | record nfsgate 0
[ "$WITH_S3" = 1 ] && echo "{\"metric\":\"peak-rss\",\"value\":$(hwm $NPID2),\"unit\":\"MiB\"}" | record nfsgate-s3 0

mkdir -p "$HERE/results"
OUT=$HERE/results/bench-$(date -u +%Y%m%dT%H%M%SZ)$([ "$QUICK" = 1 ] && echo -quick).json
SIZES="{\"quick\":$QUICK,\"vm\":$WITH_VM,\"only\":\"$ONLY\",\"rounds\":$ROUNDS,\"seq_mb\":$SEQ_MB,\"rand_s\":$RAND_S,\"meta_n\":$META_N,\"ls_n\":$LS_N,\"ls_timeout\":$LS_TIMEOUT,\"hot_mb\":$HOT_MB,\"hot_s\":$HOT_S,\"ops_s\":$OPS_S,\"seconds\":$(( $(date +%s) - START )),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"ganesha\":\"$(dpkg-query -W -f='${Version}' nfs-ganesha)\",\"nfsgate\":\"$("$W/bin/nfsgate" version 2>/dev/null | head -n 1)\"}"
python3 "$HERE/report.py" "$RES" "$SIZES" "$OUT"
for f in "$W"/perf-*.txt; do
    if [ -f "$f" ]; then cp "$f" "${OUT%.json}-$(basename "$f")" && echo "profile: ${OUT%.json}-$(basename "$f")"; fi
done
