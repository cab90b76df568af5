#!/usr/bin/env python3
"""Summarises `perf script` output (perf record -g): the share of samples each function appears in (inclusive), and
the functions the samples were taken in (leaf). Usage: fold.py SCRIPT [N inclusive rows, default 45].
Managed frames have names only if the process ran with DOTNET_PerfMapEnabled=1."""
import sys, collections, re
samples = []; cur = []
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    if not line.strip():
        if cur: samples.append(cur); cur = []
        continue
    if line.startswith((" ", "\t")):
        parts = line.strip().split(None, 1)
        fn = parts[1] if len(parts) > 1 else parts[0]
        fn = re.sub(r"\s*\(.*\)$", "", fn)
        fn = re.sub(r"\+0x[0-9a-f]+$", "", fn)
        cur.append(fn)
if cur: samples.append(cur)
n = len(samples)
incl = collections.Counter(); leaf = collections.Counter()
for s in samples:
    leaf[s[0]] += 1
    for f in set(s): incl[f] += 1
print("samples", n)
print("-- inclusive")
for f, c in incl.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 45): print(f"{100*c/n:5.1f}% {f[:150]}")
print("-- leaf")
for f, c in leaf.most_common(25): print(f"{100*c/n:5.1f}% {f[:150]}")
