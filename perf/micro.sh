#!/usr/bin/env bash
# Micro-benchmarks (perf/NfsGate.Benchmarks, BenchmarkDotNet, no sockets), short job: XDR, dispatch of
# GETATTR/LOOKUP/READ through Nfs3Program on in-memory metadata, RocksDB metadata operations, block cache hits, the
# cache's CRC-32C paths.
# Writes the GitHub-markdown tables to perf/results/micro-<time>.md. Extra arguments go to BenchmarkDotNet
# (default: --filter '*').
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(mktemp -d /tmp/nfsgate-micro.XXXXXX)
trap 'rm -rf "$W"' EXIT
[ $# -gt 0 ] || set -- --filter '*'
dotnet build "$HERE/NfsGate.Benchmarks/NfsGate.Benchmarks.csproj" -c Release --nologo -v q >/dev/null
# In process: BenchmarkDotNet's default is to generate and build a separate project per job, which rebuilds the whole
# dependency tree with its own settings (minutes on the shared machine) for no gain in these allocation-level numbers.
dotnet "$HERE/NfsGate.Benchmarks/bin/Release/net10.0/NfsGate.Benchmarks.dll" --job short --inProcess --artifacts "$W" "$@"
mkdir -p "$HERE/results"
OUT=$HERE/results/micro-$(date -u +%Y%m%dT%H%M%SZ).md
{
    echo "# Micro-benchmarks $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
    for f in "$W"/results/*-report-github.md; do echo; cat "$f"; done
} >"$OUT"
echo "micro: $OUT"
