#!/usr/bin/env python3
"""Time per object of each inventory rule (and of all per-object rules together) at two
corpus sizes, in the same run: a rule whose time per object grows with the input is
super-linear.

usage: bench/rule_times.py [--sizes 10000,100000] [--repeat 3] [--exe RULE_TIMES]
                           [--baseline OLD_RULE_TIMES] [--dirs DIR,DIR]

Builds the replicated real-world corpus (bench/gen_corpus.py) at each size (or reads the
corpora given with --dirs, one per size), runs the `rule_times` example of palisade-analyze
(one thread, best of --repeat; the thread's CPU time on Linux) and prints, per rule,
microseconds per object at each size and the ratio of the largest size to the smallest
(flat: about 1). --exe names an already built example (else a release build is made);
--baseline runs another build of it on the same corpora in the same run, alternating with
this one, and adds its columns and the ratio of the two at the largest size.
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


def run(exe, corpus, repeat):
    p = subprocess.run([exe, corpus, "--repeat", str(repeat)], stdout=subprocess.PIPE,
                       check=True, env=dict(os.environ, RAYON_NUM_THREADS="1"))
    return {row["rule"]: row["microsPerObject"]
            for row in map(json.loads, p.stdout.decode().splitlines())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exe")
    ap.add_argument("--baseline")
    ap.add_argument("--dirs")
    a = ap.parse_args()
    exe = a.exe
    if not exe:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade-analyze",
                        "--example", "rule_times"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        exe = os.path.join(target, "release", "examples", "rule_times")
    exes = {"new": exe}
    if a.baseline:
        exes = {"base": a.baseline, "new": exe}
    dirs = a.dirs.split(",") if a.dirs else None
    sizes = [int(s) for s in a.sizes.split(",")] if not dirs else list(range(len(dirs)))
    per = {name: {} for name in exes}
    labels = {}
    for i, n in enumerate(sizes):
        if dirs:
            out, tmp = dirs[i], False
        else:
            out, tmp = tempfile.mkdtemp(prefix=f"palisade-rules-{n}-"), True
            subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), str(n), out],
                           check=True, stdout=subprocess.DEVNULL)
        labels[n] = os.path.basename(out.rstrip("/")) if dirs else str(n)
        try:
            for name, e in exes.items():
                for rule, t in run(e, out, a.repeat).items():
                    per[name].setdefault(rule, {})[n] = t
        finally:
            if tmp:
                shutil.rmtree(out, ignore_errors=True)
    lo, hi = sizes[0], sizes[-1]
    nan = float("nan")
    head = f"{'rule':14}"
    for name in exes:
        head += " ".join(f" {name + ' @' + labels[n]:>14}" for n in sizes) + f" {'ratio':>7}"
    if a.baseline:
        head += f" {'new/base @' + labels[hi]:>16}"
    print(head)
    for rule in per["new"]:
        line = f"{rule:14}"
        for name in exes:
            t = per[name].get(rule, {})
            ratio = t[hi] / t[lo] if t.get(lo) and hi in t else nan
            line += " ".join(f" {t.get(n, nan):14.3f}" for n in sizes) + f" {ratio:7.2f}"
        if a.baseline:
            b = per["base"].get(rule, {}).get(hi)
            line += f" {per['new'][rule].get(hi, nan) / b if b else nan:16.2f}"
        print(line)


if __name__ == "__main__":
    main()
