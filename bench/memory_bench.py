#!/usr/bin/env python3
"""Peak memory and time of `palisade scan` as the input grows: C1k, C10k and C100k, the
replicated real-world corpus that bench/gen_corpus.py builds (as bench/scan_bench.py does).

usage: bench/memory_bench.py [--sizes 1000,10000,100000] [--runs 3] [--baseline BINARY]
                             [--binary BINARY] [--format json]

For each size: objects, YAML bytes, peak RSS (MiB, /usr/bin/time) and wall time (best of runs)
of `palisade scan DIR --format FORMAT` (json unless told), with the report written to
/dev/null, and RSS per YAML byte. With --baseline (a binary built before a change: copy it aside, rebuild), the baseline
runs on the same corpus in the same run, alternating with the candidate, and the candidate's
figures are printed as ratios of the baseline's. Without --binary the release build of this
tree is built and used.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(exe, corpus, fmt):
    """Wall seconds and peak RSS (MiB) of one scan."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", exe, "scan", corpus, "--format", fmt,
                        "--fail-on", "none"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode not in (0, 1, 2):
        sys.exit(f"{exe} scan {corpus} failed: {p.stderr.decode()[-2000:]}")
    return dt, int(p.stderr.decode().strip().splitlines()[-1]) / 1024


def corpus_bytes(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary")
    ap.add_argument("--baseline")
    ap.add_argument("--format", default="json", help="the report format written (json, sarif...)")
    a = ap.parse_args()
    if not shutil.which("/usr/bin/time") and not os.path.exists("/usr/bin/time"):
        sys.exit("/usr/bin/time is needed (Debian package `time`)")
    exe = a.binary
    if exe is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target", "release", "palisade")
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        out = tempfile.mkdtemp(prefix=f"palisade-mem-{n}-")
        try:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), str(n), out],
                           check=True, stdout=subprocess.DEVNULL)
            size = corpus_bytes(out)
            best = {"candidate": (None, 0.0), "baseline": (None, 0.0)}
            for _ in range(a.runs):
                for name, binary in (("baseline", a.baseline), ("candidate", exe)):
                    if binary is None:
                        continue
                    dt, rss = measure(binary, out, a.format)
                    t0, r0 = best[name]
                    best[name] = (dt if t0 is None else min(t0, dt), max(r0, rss))
            t, rss = best["candidate"]
            row = {
                "format": a.format,
                "objects": n,
                "yamlMiB": round(size / 2**20, 1),
                "peakRssMiB": round(rss, 1),
                "rssPerYamlByte": round(rss * 2**20 / size, 2),
                "scanSeconds": round(t, 3),
            }
            if a.baseline:
                bt, brss = best["baseline"]
                row["baselinePeakRssMiB"] = round(brss, 1)
                row["baselineScanSeconds"] = round(bt, 3)
                row["rssOverBaseline"] = round(rss / brss, 2)
                row["timeOverBaseline"] = round(t / bt, 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
