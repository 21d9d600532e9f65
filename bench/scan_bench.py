#!/usr/bin/env python3
"""Benchmark of `palisade scan` on a generated corpus, next to the time to merely parse the
same YAML on one thread (the floor), measured in the same run.

usage: bench/scan_bench.py [--objects 10000] [--runs 5] [--keep] [--gatekeeper]

Prints: objects, files, the parse floor (best of runs, one thread: the YAML parser's event
stream alone, and the documents built into values), `palisade scan` wall time (best of runs)
with all cores and with one thread, objects/second, peak RSS, and the ratios. With
--gatekeeper, also the same scan with the gatekeeper-library pod-security templates and their
sample constraints loaded (`--policy`, from ../shared/corpus/gatekeeper-library), and its
ratio to the scan without them.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd, env=None):
    """Runs a command, returns (seconds, peak RSS in MiB of this child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    dt = time.perf_counter() - t
    if p.returncode not in (0, 1, 2):
        sys.exit(f"{cmd} failed: {p.stderr.decode()}")
    # /usr/bin/time gives the exact peak of this one child.
    return dt, p.stdout, p.stderr, before


def peak_rss_mib(cmd, env=None):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, cwd=ROOT)
    return int(p.stderr.decode().strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--gatekeeper", action="store_true",
                    help="also scan with the gatekeeper-library pod-security templates loaded")
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade",
                    "-p", "palisade-load", "--example", "parse_floor"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "palisade"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "palisade")
    floor_exe = os.path.join(ROOT, "target", "release", "examples", "parse_floor")

    out = tempfile.mkdtemp(prefix="palisade-bench-")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), str(a.objects), out], check=True)

    floor = json.loads(subprocess.run([floor_exe, out, "--repeat", str(a.runs)], stdout=subprocess.PIPE,
                                      check=True).stdout)

    scan = [exe, "scan", out, "--format", "json", "--fail-on", "none"]
    best_all, best_one, report = None, None, None
    for _ in range(a.runs):
        dt, stdout, _, _ = run(scan)
        best_all = dt if best_all is None else min(best_all, dt)
        report = stdout
        one = dict(os.environ, RAYON_NUM_THREADS="1")
        dt1, _, _, _ = run(scan, env=one)
        best_one = dt1 if best_one is None else min(best_one, dt1)
    rep = json.loads(report)
    objects = rep["input"]["objects"]
    rss_all = peak_rss_mib(scan)
    rss_one = peak_rss_mib(scan, env=dict(os.environ, RAYON_NUM_THREADS="1"))

    res = {
        "objects": objects,
        "files": rep["input"]["files"],
        "bytes": floor["bytes"],
        "findings": rep["summary"]["findings"],
        "cores": os.cpu_count(),
        "parseFloorEventsSeconds": round(floor["parseEventsSeconds"], 4),
        "parseFloorValuesSeconds": round(floor["parseValuesSeconds"], 4),
        "scanSeconds": round(best_all, 4),
        "scanOneThreadSeconds": round(best_one, 4),
        "objectsPerSecond": round(objects / best_all),
        "scanOverParseFloor": round(best_all / floor["parseValuesSeconds"], 2),
        "scanOneThreadOverParseFloor": round(best_one / floor["parseValuesSeconds"], 2),
        "peakRssMiB": round(rss_all, 1),
        "peakRssOneThreadMiB": round(rss_one, 1),
    }
    if a.gatekeeper:
        lib = None
        d = ROOT
        while lib is None and os.path.dirname(d) != d:
            cand = os.path.join(d, "shared", "corpus", "gatekeeper-library", "library", "pod-security-policy")
            lib = cand if os.path.isdir(cand) else None
            d = os.path.dirname(d)
        if lib is None:
            sys.exit("shared/corpus/gatekeeper-library not found above the repository")
        policies = []
        for name in sorted(os.listdir(lib)):
            t = os.path.join(lib, name, "template.yaml")
            samples = os.path.join(lib, name, "samples")
            if not os.path.isfile(t) or not os.path.isdir(samples):
                continue
            policies += ["--policy", t]
            for s_ in sorted(os.listdir(samples)):
                c = os.path.join(samples, s_, "constraint.yaml")
                if os.path.isfile(c):
                    policies += ["--policy", c]
                    break
        with_policies = scan + policies
        best_gk, gk_report = None, None
        for _ in range(a.runs):
            dt, stdout, _, _ = run(with_policies)
            best_gk = dt if best_gk is None else min(best_gk, dt)
            gk_report = stdout
        gk = json.loads(gk_report)
        res["gatekeeperTemplates"] = policies.count("--policy") // 2
        res["gatekeeperFindings"] = gk["summary"]["findings"] - rep["summary"]["findings"]
        res["scanWithGatekeeperSeconds"] = round(best_gk, 4)
        res["scanWithGatekeeperOverScan"] = round(best_gk / best_all, 2)
        res["peakRssWithGatekeeperMiB"] = round(peak_rss_mib(with_policies), 1)
    print(json.dumps(res, indent=2))
    if not a.keep:
        subprocess.run(["rm", "-rf", out])
    else:
        print(f"corpus kept in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
