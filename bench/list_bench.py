#!/usr/bin/env python3
"""Benchmark of `kind: List` input: the same Pods as one kubectl-style List and as separate
documents, at several sizes, measured in the same run.

usage: bench/list_bench.py [--sizes 2000,20000] [--runs 3]

Prints, per size: wall time (best of runs) and peak RSS of `palisade scan` on the List and on
the separate documents, and the List/documents ratios. Linear handling of Lists keeps both
ratios near 1 at every size; a cost per item that grows with the List shows as ratios that
grow with the size.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web-{i}
  namespace: shop
  labels: {{app: web, tier: front}}
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports: [{{containerPort: 8080}}]
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {{drop: [ALL]}}
    resources:
      limits: {{cpu: 500m, memory: 256Mi}}
"""


def indent(text, prefix):
    lines = text.splitlines()
    return "\n".join([prefix + lines[0]] + ["  " + l for l in lines[1:]]) + "\n"


def write_inputs(n, out):
    as_list = os.path.join(out, f"list-{n}.yaml")
    with open(as_list, "w") as f:
        f.write("apiVersion: v1\nkind: List\nitems:\n")
        for i in range(n):
            f.write(indent(POD.format(i=i), "- "))
    as_docs = os.path.join(out, f"docs-{n}.yaml")
    with open(as_docs, "w") as f:
        for i in range(n):
            f.write("---\n" + POD.format(i=i))
    return as_list, as_docs


def measure(exe, path, runs):
    cmd = [exe, "scan", path, "--format", "json", "--fail-on", "none"]
    best = None
    objects = None
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            sys.exit(f"{cmd} exited {p.returncode}: {p.stderr.decode()[:2000]}")
        objects = json.loads(p.stdout)["input"]["objects"]
        best = dt if best is None else min(best, dt)
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, check=True)
    rss = int(p.stderr.decode().strip().splitlines()[-1]) / 1024
    return best, rss, objects


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2000,20000")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "palisade")
    results = []
    with tempfile.TemporaryDirectory(prefix="palisade-list-bench-") as out:
        for n in [int(s) for s in a.sizes.split(",")]:
            as_list, as_docs = write_inputs(n, out)
            lt, lrss, lobj = measure(exe, as_list, a.runs)
            dt, drss, dobj = measure(exe, as_docs, a.runs)
            assert lobj == dobj == n, (lobj, dobj, n)
            results.append({
                "items": n,
                "listSeconds": round(lt, 4),
                "documentsSeconds": round(dt, 4),
                "listPeakRssMiB": round(lrss, 1),
                "documentsPeakRssMiB": round(drss, 1),
                "timeRatio": round(lt / dt, 2),
                "rssRatio": round(lrss / drss, 2),
            })
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
