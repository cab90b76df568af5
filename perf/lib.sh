# Helpers shared by perf/bench.sh, the hand-run perf/*.sh probes and perf/NfsGate.Benchmarks/ab-{ops,read}.sh (sourced, not run). Before use, the script
# sets W (its work directory) and PIDS=() (every process it starts, stopped in reverse order by stop_all), and
# BUCKETS=() if it uses start_nfsgate_s3.

stop() {    # pid: TERM, then KILL after 20 s (a loaded machine can take seconds to shut a server down)
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
}
stop_all() { local i; for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "${PIDS[$i]}"; done; }

# A port below Linux's ephemeral range (32768-60999), so no outgoing connection (the load generator's, the S3
# client's) can hold it when the server binds, that no TCP socket uses now and that this run has not handed out
# yet (the servers bind a while after the pick; $W/.ports remembers the picks). A pick in 30000-55000 that looked
# only at listening sockets once failed a start with "Address already in use".
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        grep -qx "$p" "$W/.ports" 2>/dev/null && continue
        ss -Htan "sport = :$p" | grep -q . && continue
        echo "$p" >>"$W/.ports"; echo "$p"; return
    done
}
# utime + stime in clock ticks (10 ms here) of the processes whose pids are the words of "$@", summed; a process that
# has gone counts 0 (a server that died must not stall a wait).
ticks() {
    local p t=0 v
    for p in $*; do v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && t=$((t + v)); done
    echo $t
}
wait_port() { for _ in $(seq 300); do ss -ltn | awk '{print $4}' | grep -q ":$1\$" && return 0; sleep 0.2; done; return 1; }
start_nfsgate() {   # name binary port: nfsgate with embedded defaults in $W/name (log $W/name.log); pid in NGPID
    NFSGATE_PORTMAPPER=off NFSGATE_HTTP=127.0.0.1:$(free_port) "$2" serve --listen 127.0.0.1:$3 --data-dir "$W/$1" </dev/null >"$W/$1.log" 2>&1 &
    NGPID=$!; PIDS+=($NGPID)
}
# name binary: nfsgate on ../shared/tools/s3-ceph (S3_* from `s3-ceph start`) with a 4 GiB block cache, state in
# $W/name (config $W/name.json, log $W/name.log) and its own bucket nfsgate-name-PID, added to BUCKETS for
# s3_clean_all; the NFS port in NGPORT, the HTTP port in NGHTTP, the pid in NGPID. Environment set on the call
# (e.g. DOTNET_PerfMapEnabled=1) reaches the server.
start_nfsgate_s3() {
    NGPORT=$(free_port) NGHTTP=$(free_port)
    local b=nfsgate-$1-$$; BUCKETS+=($b)
    cat >"$W/$1.json" <<EOC
{ "listen": "127.0.0.1:$NGPORT", "portmapper": "off", "http": "127.0.0.1:$NGHTTP", "dataDir": "$W/$1",
  "objectStore": { "type": "s3", "bucket": "$b", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
                   "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY", "createBucket": true },
  "cache": { "size": "4GiB" } }
EOC
    "$2" serve --config "$W/$1.json" </dev/null >"$W/$1.log" 2>&1 &
    NGPID=$!; PIDS+=($NGPID)
}
s3_clean_all() {   # deletes the buckets start_nfsgate_s3 made (and their objects)
    local b
    for b in "${BUCKETS[@]}"; do
        LG s3clean --endpoint "$S3_ENDPOINT" --bucket "$b" --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" >/dev/null 2>&1
    done
}

# For the ab-*.sh scripts: nfs-ganesha and the two nfsgate builds $OLD and $NEW (embedded defaults; environment set
# on the call, e.g. NFSGATE_CACHE__SIZE=4GiB, reaches both), then NAME=(ganesha old new) with PID (server pids) and
# TARGET (load generator arguments) by the same index. Returns 1, with the logs' tails, if one does not listen.
start_ab() {
    local p1 p2 old
    start_ganesha || return 1
    p1=$(free_port) p2=$(free_port)
    start_nfsgate old "$OLD" "$p1"; old=$NGPID
    start_nfsgate new "$NEW" "$p2"
    wait_port "$GN" && wait_port "$p1" && wait_port "$p2" ||
        { echo "a server did not start"; tail -n 5 "$W"/*.log; return 1; }
    NAME=(ganesha old new); PID=("$GPID" "$old" "$NGPID")
    TARGET=("--nfs 127.0.0.1:$GN --mount 127.0.0.1:$GM --path $W/ganesha/export" "--nfs 127.0.0.1:$p1" "--nfs 127.0.0.1:$p2")
}

# perf/NfsGate.LoadGen, built and copied to $W/loadgen (others may rebuild the tree while a run lasts); LG runs it.
build_loadgen() {
    local here; here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    dotnet build "$here/NfsGate.LoadGen/NfsGate.LoadGen.csproj" -c Release --nologo -v q >"$W/loadgen-build.log" 2>&1 ||
        { tail -n 20 "$W/loadgen-build.log"; return 1; }
    cp -r "$here/NfsGate.LoadGen/bin/Release/net10.0" "$W/loadgen"
}
LG() { dotnet "$W/loadgen/nfsgate-loadgen.dll" "$@"; }

# Installs the apt packages named that are missing (apt-get update only if the first try fails); 1 if it cannot.
install_packages() {
    local p need=()
    for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p"); done
    [ ${#need[@]} -eq 0 ] && return 0
    echo "installing ${need[*]}"
    # The first try runs on the package lists the machine has; its "Unable to locate" on a fresh one is not news.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; } ||
        { echo "apt-get install ${need[*]} failed"; return 1; }
}

# The reference server: nfs-ganesha 4.3, VFS FSAL, exporting $W/ganesha/export on 127.0.0.1:GN (MOUNT on GM);
# GPID is its pid. rpcbind is started only if none runs (ganesha refuses to start unless it can register).
#
# Its cache (MDCACHE) keeps ganesha 4.3's defaults, as a user would run it: Entries_HWMark and Chunks_HWMark 100000,
# Dir_Chunk 128. Raising the marks to 500,000 did not speed up the kernel client's `ls -l` of 40,000 or 100,000
# entries (measured 19:15-19:33 UTC, side by side: 100,000 entries 264 s default vs 331 s raised; 40,000 entries 71-87 s
# vs 107-112 s, load 29-73): the time goes to the guest, not to ganesha (the READDIRPLUS and GETATTR round trips add
# up to a fifth of it), so the benchmark time-boxes that step instead (guest-bench.sh LS_TIMEOUT). GANESHA_MDCACHE
# takes an MDCACHE { ... } block for such experiments.
GANESHA_MDCACHE=${GANESHA_MDCACHE:-}
start_ganesha() {
    install_packages nfs-ganesha nfs-ganesha-vfs rpcbind || return 1
    GN=$(free_port) GM=$(free_port)
    mkdir -p "$W/ganesha/export"
    cat >"$W/ganesha.conf" <<EOF
NFS_CORE_PARAM { Protocols = 3; Enable_UDP = false; Enable_NLM = false; Enable_RQUOTA = false; Bind_Addr = 127.0.0.1; NFS_Port = $GN; MNT_Port = $GM; }
EXPORT { Export_Id = 1; Path = $W/ganesha/export; Pseudo = /export; Protocols = 3; Transports = TCP; Access_Type = RW; Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
$GANESHA_MDCACHE
EOF
    if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
        rpcbind -f -w </dev/null >/dev/null 2>&1 & PIDS+=($!)
        for _ in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    ganesha.nfsd -F -f "$W/ganesha.conf" -L "$W/ganesha.log" -p "$W/ganesha.pid" </dev/null >/dev/null 2>&1 & GPID=$!
    PIDS+=($GPID)
}
