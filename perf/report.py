#!/usr/bin/env python3
"""Summarises perf/bench.sh results: results.jsonl SIZES_JSON OUT.json -> a table on stdout and OUT.json.

Each workload row shows every server's values over the rounds (min-max) and nfsgate / ganesha as the range of the
per-round ratios: both servers ran in the same round, so a ratio cancels most of the machine's drift.

A measurement cut off by its time box (guest-bench.sh's ls -l: "timed_out": true) is a bound, not a value: its rate is
printed as "<=N" (the run would have taken longer), and a ratio with it as "<=" or ">=" (see bounded_ratios); the
JSON summary lists such rounds under "timed_out" and says which way each ratio is bounded.
"""
import json
import sys

GOAL_VS_GANESHA = 1.0
GOAL_COLD_VS_RAW = 0.8
GOAL_BYTES_PER_BYTE = 1.05
GOAL_RSS_MIB = 1024


def rng(vals, fmt="{:.1f}"):
    if not vals:
        return "-"
    lo, hi = min(vals), max(vals)
    return fmt.format(lo) if lo == hi else (fmt + "-" + fmt).format(lo, hi)


# Kernel-client read rows that nfsgate and nfsgate-s3 serve through the same code when every READ hits the block
# cache: their ratio is an A/A comparison, the spread this machine gives two identical servers.
SAME_CODE_ROWS = ("seq-read-1j", "seq-read-4j", "randread-4k", "hot-16readers")


def per_unit(r, field="server_cpu_s"):
    """Server CPU per unit of work in a row: ms per MB, or us per op/entry. Work is rate x time: the row's own seconds
    where it gives them (the load generator, ls -l), else the wall time between bench.sh's two readings, which for
    fio includes its start-up (the same for every server)."""
    secs = r["seconds"] if isinstance(r.get("seconds"), (int, float)) else r.get("row_s")
    if not secs or r["value"] <= 0:
        return None
    work = r["value"] * secs
    if field not in r:
        return None
    return r[field] * 1000 / work if r["unit"] == "MB/s" else r[field] * 1e6 / work


def where_time_went(rows, summary):
    """Rows with counters (bench.sh attaches them): each server's CPU per unit of work, nfsgate's mean time per READ
    or WRITE inside the server, and how busy the machine was. Then the A/A spread of SAME_CODE_ROWS."""
    k = {(r["metric"], r["server"], r["round"]): r for r in rows if "server_cpu_s" in r}
    if not k:
        return
    metrics = list(dict.fromkeys(r["metric"] for r in rows if "server_cpu_s" in r))
    servers = ("ganesha", "nfsgate", "nfsgate-s3")

    def got(m, s, f):
        out = []
        for (mm, ss, _), r in sorted(k.items()):
            if mm == m and ss == s:
                v = per_unit(r) if f == "cpu" else per_unit(r, "machine_cpu_s") if f == "machine" else r.get(f)
                if v is not None:
                    out.append(v)
        return out

    print()
    print("CPU per unit of work (ms per MB, us per op) of each server and of the whole machine while that server's row ran "
          "(s3: Ceph and the relay), nfsgate's mean ms per READ/WRITE inside the server, share of the cores busy")
    print(f"{'workload':<20} {'unit':<6} {'ganesha':>9} {'machine':>9} {'nfsgate':>9} {'machine':>9} {'in-server':>12} "
          f"{'nfsgate-s3':>10} {'machine':>9} {'in-server':>12} {'s3':>7} {'machine':>9} {'busy':>10}")
    table = []
    for m in metrics:
        call = "read_ms" if any("read_ms" in r for (mm, _, _), r in k.items() if mm == m) else "write_ms"
        unit = "ms/MB" if any(r["unit"] == "MB/s" for (mm, _, _), r in k.items() if mm == m) else "us/op"
        busy = [r["host_busy"] for (mm, _, _), r in k.items() if mm == m and "host_busy" in r]
        g = lambda s, f, fmt="{:.3g}": rng(got(m, s, f), fmt)
        print(f"{m:<20} {unit:<6} {g('ganesha', 'cpu'):>9} {g('ganesha', 'machine'):>9} {g('nfsgate', 'cpu'):>9} "
              f"{g('nfsgate', 'machine'):>9} {g('nfsgate', call, '{:.3f}'):>12} {g('nfsgate-s3', 'cpu'):>10} "
              f"{g('nfsgate-s3', 'machine'):>9} {g('nfsgate-s3', call, '{:.3f}'):>12} {g('s3', 'cpu'):>7} {g('s3', 'machine'):>9} "
              f"{rng(busy, '{:.2f}'):>10}")
        table.append({"workload": m, "unit": unit, "busy": busy,
                      **{f"{s}_cpu_per_unit": got(m, s, "cpu") for s in servers + ("s3",)},
                      **{f"{s}_machine_cpu_per_unit": got(m, s, "machine") for s in servers + ("s3",)},
                      **{f"{s}_{call}": got(m, s, call) for s in servers[1:]}})
    aa = []
    for (m, s, rnd), r in k.items():
        other = k.get((m, "nfsgate-s3", rnd))
        if m in SAME_CODE_ROWS and s == "nfsgate" and other and other["value"] > 0 \
                and r.get("cache_misses") == 0 and other.get("cache_misses") == 0:
            aa.append(r["value"] / other["value"])
    if aa:
        print(f"same code, same path (block-cache hits only): nfsgate / nfsgate-s3 on {', '.join(SAME_CODE_ROWS)}: "
              f"{rng(aa, '{:.2f}')}x over {len(aa)} pairs; ratios to ganesha inside that spread are not a difference")
    # Where memory grew: each server's RSS at the end of its rows, highest first (peak RSS is a target).
    for s in servers:
        rss = sorted(((r["server_rss_mib"], m, rnd) for (m, ss, rnd), r in k.items() if ss == s and "server_rss_mib" in r), reverse=True)
        if rss:
            print(f"RSS at a row's end, {s}: " + ", ".join(f"{v:.0f} MiB after {m} r{rnd}" for v, m, rnd in rss[:3]))
    # A cache that skipped fills for want of disk space refetches from S3: its cold/warm rows measure something else.
    skipped = [(m, ss, rnd, r["cache_skipped_for_space"]) for (m, ss, rnd), r in k.items() if r.get("cache_skipped_for_space")]
    for m, ss, rnd, n in skipped:
        print(f"WARNING: {ss} skipped {n} cache fills in {m} r{rnd}: its cache disk had less than cache.minFreeRatio free")
    summary.append({"cost_per_unit": table, "same_code_ratio": sorted(aa)})


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    sizes = json.loads(sys.argv[2])
    out = sys.argv[3]
    by = {}  # (metric, server) -> {round: value}
    cut = {}  # (metric, server) -> rounds whose value is an upper bound (the step hit its time box)
    units, order = {}, []
    for r in rows:
        m = r["metric"]
        if m not in units:
            order.append(m)
        units[m] = r["unit"]
        by.setdefault((m, r["server"]), {})[r["round"]] = r["value"]
        if r.get("timed_out"):
            cut.setdefault((m, r["server"]), set()).add(r["round"])

    def vals(m, s, rounds_only=True):
        d = by.get((m, s), {})
        return [v for k, v in sorted(d.items()) if k >= 1 or not rounds_only]

    def ratios(m, a, b):
        da, db = by.get((m, a), {}), by.get((m, b), {})
        return [da[k] / db[k] for k in sorted(da) if k >= 1 and k in db and db[k] > 0]

    def bounded_ratios(m, a, b):
        """a / b per round, and which way the whole range is bounded: "" exact, ">=" when only b's rate was cut off
        (its true rate is lower, so the ratio is higher), "<=" when only a's was; rounds where both were cut off say
        nothing and are left out."""
        da, db = by.get((m, a), {}), by.get((m, b), {})
        ca, cb = cut.get((m, a), set()), cut.get((m, b), set())
        out, kinds = [], set()
        for k in sorted(da):
            if k >= 1 and k in db and db[k] > 0 and not (k in ca and k in cb):
                out.append(da[k] / db[k])
                kinds.add(">=" if k in cb else "<=" if k in ca else "")
        kind = "" if kinds <= {""} else ">=" if kinds <= {"", ">="} else "<=" if kinds <= {"", "<="} else "~"
        return out, kind

    def shown(m, s):
        return ("<=" if cut.get((m, s)) else "") + rng(vals(m, s))

    def shown_ratio(r, kind):
        return (kind if kind != "~" else "") + rng(r, "{:.2f}") + "x" if r else "-"

    def met(r, kind):
        # A ">=" bound at or above the goal proves it; an "<=" bound can only prove a miss, so it never counts as met.
        return bool(r) and kind in ("", ">=") and min(r) >= GOAL_VS_GANESHA

    summary = []
    head = f"{'workload':<24} {'unit':<10} {'ganesha':>15} {'nfsgate':>15} {'÷ ganesha':>11} {'nfsgate-s3':>15} {'÷ ganesha':>11}"
    print()
    print(f"Side by side, {sizes['rounds']} round(s), ranges over rounds (sizes: {json.dumps(sizes)})")
    print(head)
    print("-" * len(head))
    for m in order:
        if m == "settle" or not vals(m, "ganesha"):
            continue
        (r1, k1), (r2, k2) = bounded_ratios(m, "nfsgate", "ganesha"), bounded_ratios(m, "nfsgate-s3", "ganesha")
        print(f"{m:<24} {units[m]:<10} {shown(m, 'ganesha'):>15} {shown(m, 'nfsgate'):>15} "
              f"{shown_ratio(r1, k1):>11} {shown(m, 'nfsgate-s3'):>15} {shown_ratio(r2, k2):>11}")
        row = {"workload": m, "unit": units[m], "ganesha": vals(m, "ganesha"), "nfsgate": vals(m, "nfsgate"),
               "nfsgate_s3": vals(m, "nfsgate-s3"), "ratio_nfsgate": r1, "ratio_nfsgate_s3": r2,
               "goal": GOAL_VS_GANESHA, "met": met(r1, k1) and (not r2 or met(r2, k2))}
        timed_out = {s: sorted(cut[(m, s)]) for s in ("ganesha", "nfsgate", "nfsgate-s3") if cut.get((m, s))}
        if timed_out:
            row["timed_out"] = timed_out  # rounds whose value is an upper bound on the rate
            row["ratio_bound_nfsgate"], row["ratio_bound_nfsgate_s3"] = k1 or "exact", k2 or "exact"
        summary.append(row)
    if cut:
        print("<=: cut off by its time box, the rate is at most this; >=/<= on a ratio: a bound, not a value")

    # bench.sh waits before each step until every server is quiet; each wait is its own row (by[] keeps one per round).
    settles = {}
    for r in rows:
        if r["metric"] == "settle":
            settles.setdefault(r["server"], []).append((r["value"], r.get("before", "?")))
    if settles:
        print()
        print("background work before a step (s until the server was quiet; the step it delayed):")
        for s in ("ganesha", "nfsgate", "nfsgate-s3", "s3"):
            if s in settles:
                waits = sorted(settles[s], reverse=True)
                print(f"  {s:<11} {len(waits)} waits, {sum(v for v, _ in waits)} s in all, longest: "
                      + ", ".join(f"{v} s before {step}" for v, step in waits[:3]))
        summary.append({"settle": {s: [{"seconds": v, "before": b} for v, b in w] for s, w in settles.items()}})

    where_time_went(rows, summary)

    checks = []
    cold = by.get(("cold-read-1c", "nfsgate-s3"), {})
    # The reference is the faster of whole-object and ranged GETs in each round (the SDK checks a whole object's
    # checksum, which can make whole GETs the slower ones): the harder bar for the gateway.
    whole, ranged = by.get(("raw-get-4c", "s3"), {}), by.get(("raw-get-4c-ranged", "s3"), {})
    raw = {k: max(whole.get(k, 0), ranged.get(k, 0)) for k in set(whole) | set(ranged)}
    cr = [cold[k] / raw[k] for k in sorted(cold) if k in raw and raw[k] > 0]
    if cr:
        checks.append(("cold S3 read (1 reader) / raw GET (4 in flight)", rng(vals("cold-read-1c", "nfsgate-s3")) + " vs " +
                       rng([raw[k] for k in sorted(raw) if k >= 1]) + " MB/s", cr, f">= {GOAL_COLD_VS_RAW}", min(cr) >= GOAL_COLD_VS_RAW))
    wr = ratios("warm-read-1c", "nfsgate-s3", "ganesha")
    if wr:
        checks.append(("warm read (1 reader), nfsgate-s3 / ganesha", rng(vals("warm-read-1c", "nfsgate-s3")) + " vs " +
                       rng(vals("warm-read-1c", "ganesha")) + " MB/s", wr, f">= {GOAL_VS_GANESHA}", min(wr) >= GOAL_VS_GANESHA))
    for m, what in (("s3-bytes-per-byte-16c", "S3 bytes / file bytes, 16 readers of a cold file"),
                    ("s3-bytes-per-byte-1c", "S3 bytes / file bytes, 1 cold reader")):
        v = vals(m, "nfsgate-s3")
        if v:
            checks.append((what, "", v, f"<= {GOAL_BYTES_PER_BYTE}", max(v) <= GOAL_BYTES_PER_BYTE))
    for s in ("nfsgate", "nfsgate-s3", "ganesha"):
        v = vals("peak-rss", s, rounds_only=False)
        if v:
            checks.append((f"peak RSS (VmHWM) {s}", "", v, f"< {GOAL_RSS_MIB} MiB" if s != "ganesha" else "reference",
                           max(v) < GOAL_RSS_MIB if s != "ganesha" else True))
    if checks:
        print()
        print(f"{'target':<52} {'measured':>28} {'value':>13} {'goal':>12}  verdict")
        for what, detail, v, goal, ok in checks:
            print(f"{what:<52} {detail:>28} {rng(v, '{:.3f}'):>13} {goal:>12}  {'met' if ok else 'MISSED'}")
            summary.append({"target": what, "detail": detail, "values": v, "goal": goal, "met": ok})

    with open(out, "w") as f:
        json.dump({"sizes": sizes, "summary": summary, "results": rows}, f, indent=1)
    print()
    print(f"results: {out}")


if __name__ == "__main__":
    main()
