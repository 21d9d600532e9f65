#!/usr/bin/env python3
"""Time per object of each inventory rule (and of all per-object rules together) at two
corpus sizes, in the same run: a rule whose time per object grows with the input is
super-linear.

usage: bench/rule_times.py [--sizes 10000,100000] [--repeat 3]

Builds the replicated real-world corpus (bench/gen_corpus.py) at each size, runs the
`rule_times` example of palisade-analyze (one thread, best of --repeat) and prints, per rule,
microseconds per object at each size and the ratio of the largest size to the smallest
(flat: about 1).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade-analyze", "--example",
                    "rule_times"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    exe = os.path.join(target, "release", "examples", "rule_times")
    sizes = [int(s) for s in a.sizes.split(",")]
    per = {}
    for n in sizes:
        out = tempfile.mkdtemp(prefix=f"palisade-rules-{n}-")
        try:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), str(n), out],
                           check=True, stdout=subprocess.DEVNULL)
            p = subprocess.run([exe, out, "--repeat", str(a.repeat)], stdout=subprocess.PIPE,
                               check=True, env=dict(os.environ, RAYON_NUM_THREADS="1"))
            for line in p.stdout.decode().splitlines():
                row = json.loads(line)
                per.setdefault(row["rule"], {})[n] = row["microsPerObject"]
        finally:
            shutil.rmtree(out, ignore_errors=True)
    lo, hi = sizes[0], sizes[-1]
    print(f"{'rule':14} " + " ".join(f"{'us/obj @' + str(n):>14}" for n in sizes) + f" {'ratio':>7}")
    for rule, t in per.items():
        ratio = t[hi] / t[lo] if t.get(lo) else float("nan")
        print(f"{rule:14} " + " ".join(f"{t.get(n, float('nan')):14.3f}" for n in sizes) + f" {ratio:7.2f}")


if __name__ == "__main__":
    main()
