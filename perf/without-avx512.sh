#!/bin/sh
# out/nfsgate (or $NFSGATE_BIN) with the .NET runtime's AVX-512 off, so the block cache's CRC check takes the 256-bit
# fold an x86-64-v3 CPU takes: an x86-64-v4 machine can then measure both paths side by side, e.g.
#   OLD=perf/without-avx512.sh perf/ab-reads.sh
# (`DOTNET_EnableAVX512=0` is .NET 10's name; .NET 8's DOTNET_EnableAVX512F no longer turns it off.)
HERE=$(cd "$(dirname "$0")" && pwd)
DOTNET_EnableAVX512=0 exec "${NFSGATE_BIN:-$HERE/../out/nfsgate}" "$@"
