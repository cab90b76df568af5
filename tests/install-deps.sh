#!/usr/bin/env bash
# Installs what the end-to-end tests need: libnfs-utils and fio on the host, and what nfs-vm needs to boot the
# Linux kernel client (see ../shared/tools/nfs-vm/README.md). Idempotent: apt-get runs only when something is missing.
set -euo pipefail

packages=(libnfs-utils fio git qemu-system-x86 socat iproute2 xz-utils busybox-static linux-image-amd64 postgresql-15 haproxy)
# Observability e2e (tests/e2e/prometheus.sh): a real Prometheus 2.42 with promtool, and curl + jq to query its API.
packages+=(prometheus curl jq)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all present (${packages[*]})"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]}; run as root (or install them) first" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if they are absent or older than a day: a fresh machine has none.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 -print -quit 2>/dev/null)" ]; then
    apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
