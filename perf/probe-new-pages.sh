#!/usr/bin/env bash
# What a page-cache write costs on this machine depending on where its memory comes from (perf/README.md "Why the
# cold read costs more after the kernel-client steps"): kernel CPU seconds of a 1 GiB dd into a new file, again right
# after deleting it (the freed pages reused), after a 3 GiB process exited 5 s and 30 s before, and an overwrite of
# the resident file. Also prints the kernel's DAMON scheme, if any. Hand-run; writes 1 GiB under /tmp.
f=$(mktemp /tmp/nfsgate-newpages.XXXX)
trap 'rm -f "$f"' EXIT
cost() { /usr/bin/time -f "%S" dd if=/dev/zero of="$f" bs=4M count=256 conv=notrunc status=none 2>&1; }
freed() { python3 -c "b = bytearray(3 << 30); b[::4096] = b'x' * len(b[::4096])"; sleep "$1"; }
rm -f "$f"; sync; echo "new file (free memory idle): $(cost) s"
rm -f "$f"; sync; echo "new file right after deleting 1 GiB: $(cost) s"
echo "overwrite of the resident file: $(cost) s"
rm -f "$f"; sync; freed 5; echo "new file 5 s after a 3 GiB process exited: $(cost) s"
rm -f "$f"; sync; freed 30; echo "new file 30 s after a 3 GiB process exited: $(cost) s"
k=/sys/kernel/mm/damon/admin/kdamonds/0
if [ -r "$k/state" ]; then
    s=$k/contexts/0/schemes/0
    echo "DAMON: state $(cat $k/state), action $(cat $s/action 2>/dev/null), min age $(cat $s/access_pattern/age/min 2>/dev/null) aggregations, max accesses $(cat $s/access_pattern/nr_accesses/max 2>/dev/null), aggregation $(cat $k/contexts/0/monitoring_attrs/intervals/aggr_us 2>/dev/null) us"
fi
