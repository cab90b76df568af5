#!/usr/bin/env bash
# Side by side, interleaved: nfs-cp of 256 MiB written then read back, nfs-ganesha (VFS on the local disk) vs
# out/nfsgate (embedded defaults). Needs nfs-ganesha, nfs-ganesha-vfs, rpcbind, libnfs-utils (apt) and `make build`.
# This produced the numbers in perf/README.md; it is a hand-run script, not yet `make bench`.
set -u
W=$(mktemp -d /tmp/qb.XXXX); mkdir $W/export $W/ng
cat >$W/ganesha.conf <<EOC
NFS_CORE_PARAM { Protocols = 3; Enable_UDP = false; Enable_NLM = false; Enable_RQUOTA = false; Bind_Addr = 127.0.0.1; NFS_Port = 20490; MNT_Port = 20048; }
EXPORT { Export_Id = 1; Path = $W/export; Pseudo = /export; Protocols = 3; Transports = TCP; Access_Type = RW; Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
EOC
rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || { rpcbind -f -w & sleep 1; }
ganesha.nfsd -F -f $W/ganesha.conf -L $W/ganesha.log -p $W/ganesha.pid & GP=$!
"$(dirname "$0")/../out/nfsgate" serve --listen 127.0.0.1:20491 --data-dir $W/ng >$W/ng.log 2>&1 & NP=$!
for i in $(seq 60); do ss -ltn | grep -q ':20491 ' && ss -ltn | grep -q ':20490 ' && break; sleep 1; done
head -c 256M /dev/urandom > $W/src.bin
t() { local s=$(date +%s.%N); timeout 120 "$@" >/dev/null 2>&1; local rc=$?; local e=$(date +%s.%N); awk -v s=$s -v e=$e -v rc=$rc 'BEGIN{printf "%.1f MB/s%s", 268.435456/(e-s), rc?" (rc="rc")":""}'; }
for round in 1 2; do
  for srv in ganesha nfsgate; do
    if [ $srv = ganesha ]; then U="nfs://127.0.0.1$W/export/f$round.bin?version=3&nfsport=20490&mountport=20048"; else U="nfs://127.0.0.1//f$round.bin?version=3&nfsport=20491&mountport=20491"; fi
    echo "round $round $srv write $(t nfs-cp $W/src.bin "$U")  read $(t nfs-cp "$U" /dev/shm/qb.out)"
    cmp -s $W/src.bin /dev/shm/qb.out || echo "  MISMATCH"
    rm -f /dev/shm/qb.out
  done
done
kill $GP $NP; wait $NP; rm -rf $W
