#!/usr/bin/env bash
# Runs INSIDE the nfs-vm guest, in /mnt/nfs. Usage: guest-fio.sh read|write FILE SECONDS
# Prints {"rw":..., "mibPerSecond":...}. O_DIRECT, 1 MiB calls, 8 in flight (libaio): deep enough that the
# client always has a call waiting at the server, so the server's cap, not the client, sets the rate.
# 2 s ramp: the bucket's saved burst is spent before fio starts counting.
set -uo pipefail
rw=$1 file=$2 secs=$3
sync; echo 3 >/proc/sys/vm/drop_caches
line=$(fio --name=q --rw="$rw" --direct=1 --ioengine=libaio --iodepth=8 --bs=1M --filename="$file" --size=256M \
    --time_based --runtime="$secs" --ramp_time=2 --output-format=terse --terse-version=3 2>/dev/null | tail -n 1)
# fio terse v3: field 7 = read KiB/s, 48 = write KiB/s
echo "$line" | awk -F';' -v rw="$rw" '{ v = (rw == "read") ? $7 : $48; printf "{\"rw\":\"%s\",\"mibPerSecond\":%.2f}\n", rw, v / 1024 }'
