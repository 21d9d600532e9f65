#!/usr/bin/env python3
"""Compares two `palisade` binaries on the same generated corpus, in the same run: file size,
`scan` wall time (best of runs, alternating the binaries) and peak RSS.

usage: bench/compare_binaries.py BASELINE CANDIDATE [--objects 10000] [--runs 5]

For build-profile changes: copy the binary built before the change aside, rebuild, and pass
both. Prints the candidate's figures as ratios of the baseline's.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(exe, corpus):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run([exe, "scan", corpus, "--format", "json", "--fail-on", "none"],
                   stdout=subprocess.DEVNULL, check=True)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dt, max(before, after) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("baseline")
    ap.add_argument("candidate")
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    corpus = tempfile.mkdtemp(prefix="palisade-compare-")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), str(a.objects), corpus],
                   check=True)
    best = {a.baseline: None, a.candidate: None}
    for _ in range(a.runs):
        for exe in (a.baseline, a.candidate):
            dt, _ = run(exe, corpus)
            best[exe] = dt if best[exe] is None else min(best[exe], dt)
    size = {exe: os.path.getsize(exe) for exe in best}
    print(f"corpus: {a.objects} objects, best of {a.runs} runs each, alternating")
    for name, exe in (("baseline", a.baseline), ("candidate", a.candidate)):
        print(f"  {name:9} {size[exe] / 2**20:8.1f} MiB  scan {best[exe]:6.3f} s  ({exe})")
    print(f"candidate/baseline: size {size[a.candidate] / size[a.baseline]:.2f}x, "
          f"scan time {best[a.candidate] / best[a.baseline]:.2f}x")


if __name__ == "__main__":
    main()
