#!/usr/bin/env python3
"""Turns criterion results, allocation counts and the Node figures into BENCHMARKS.md tables.

    # after `cargo bench -p authcore-benches > allocs-and-log.txt`:
    python3 benches/report.py collect run1.json          # snapshot target/criterion medians
    ... (repeat the bench + collect for run2.json, run3.json) ...
    python3 benches/report.py table run*.json --allocs allocs-and-log.txt --node node.json

Each run's ratios are computed inside that run (same machine state); the table shows, per
benchmark, the median over the runs of its median time and of each ratio. The machine is
shared and noisy, so the ratios are the figures to quote.
"""

import glob
import json
import os
import statistics
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")


def collect(out_path):
    results = {}
    for bench in glob.glob(os.path.join(ROOT, "*", "*", "new", "benchmark.json")):
        meta = json.load(open(bench))
        est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
        results[meta["full_id"]] = est["median"]["point_estimate"]
    json.dump(results, open(out_path, "w"), indent=1, sort_keys=True)
    print(f"{len(results)} benchmarks -> {out_path}")


def fmt_ns(ns):
    if ns >= 1000:
        return f"{ns / 1000:.2f} µs"
    return f"{ns:.0f} ns"


def read_allocs(path):
    allocs = {}
    if path:
        for line in open(path):
            if line.startswith("allocs "):
                _, key, n = line.split()
                allocs[key] = int(n)
    return allocs


def table(runs, allocs, node):
    groups = {}
    for run in runs:
        for full_id in run:
            group, lib = full_id.rsplit("/", 1)
            groups.setdefault(group, set()).add(lib)

    def med(full_id):
        return statistics.median(r[full_id] for r in runs if full_id in r)

    def ratio(a, b):
        vals = [r[a] / r[b] for r in runs if a in r and b in r]
        return statistics.median(vals) if vals else None

    lines = []
    for group in sorted(groups):
        libs = groups[group]
        # The floor is the shortest-named `floor*` (HS256: `floor_hmac`, the bare compressions;
        # `floor_hmac_crate` is the hmac crate's MAC, shown for comparison).
        floors = sorted((l for l in libs if l.startswith("floor")), key=len)
        floor = floors[0] if floors else None
        peer = "jsonwebtoken" if "jsonwebtoken" in libs else None
        base = "bare_decode" if "bare_decode" in libs else None
        lines.append(f"\n### `{group}`\n")
        head = "| implementation | median | "
        if peer:
            head += "time ÷ jsonwebtoken's | speed-up vs jsonwebtoken | "
        if base:
            head += "time ÷ bare decode's | "
        head += "time ÷ floor's | allocations/op |"
        lines.append(head)
        lines.append("|" + " --- |" * (head.count("|") - 1))
        order = ["authcore", "jsonwebtoken", "jwt-simple", "whole_read", "bare_decode"]
        for lib in sorted(libs, key=lambda l: (order.index(l) if l in order else 99, l)):
            full = f"{group}/{lib}"
            row = f"| {lib} | {fmt_ns(med(full))} | "
            if peer:
                r = ratio(full, f"{group}/{peer}")
                row += f"{r:.2f} | {1 / r:.2f}× | " if r is not None else "— | — | "
            if base:
                r = ratio(full, f"{group}/{base}")
                row += f"{r:.2f} | " if r is not None else "— | "
            r = ratio(full, f"{group}/{floor}") if floor else None
            row += f"{r:.2f} | " if r is not None else "— | "
            n = allocs.get(full)
            row += f"{n} |" if n is not None else "— |"
            lines.append(row)
        if node and group.startswith("authjs_"):
            op = "decode" if group.startswith("authjs_decode") else "encode"
            for res in node["results"]:
                if res["lib"] == "@auth/core" and res["payload"] == "session":
                    us = res[op]["median_us"]
                    ours = med(f"{group}/authcore")
                    lines.append(
                        f"| `@auth/core` {node['@auth/core']} on Node {node['node']} "
                        f"({res['token_bytes']} B token) | {us:.1f} µs | "
                        f"{us * 1000 / ours:.0f}× authcore's time | — | (JS heap) |"
                    )
    print("\n".join(lines))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "collect":
        collect(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        args = sys.argv[2:]
        allocs_path = node_path = None
        files = []
        i = 0
        while i < len(args):
            if args[i] == "--allocs":
                allocs_path = args[i + 1]
                i += 2
            elif args[i] == "--node":
                node_path = args[i + 1]
                i += 2
            else:
                files.append(args[i])
                i += 1
        runs = [json.load(open(f)) for f in files]
        node = json.load(open(node_path)) if node_path else None
        table(runs, read_allocs(allocs_path), node)
        return
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main()
