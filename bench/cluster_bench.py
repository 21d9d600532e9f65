#!/usr/bin/env python3
"""Benchmark of `palisade scan --cluster` against the replay server serving a synthesized
cluster: N pods and M other objects (cloned from the recorded kube-apiserver lists in
../shared/corpus/apiserver-recordings, served over HTTPS with server-side pagination),
plus every other recorded list.

usage: bench/cluster_bench.py [--pods 10000] [--others 2000] [--runs 3] [--debug] [--standalone-pods]
                              [--bin-dir DIR]

By default the cluster has the shape of a real one: the other objects are Deployments, their
ReplicaSets, Services, ConfigMaps and RoleBindings, and every Pod belongs to a ReplicaSet (so
the scan reports it once, as its Deployment). --standalone-pods is the worst case.

Prints the live scan's wall time and peak RSS (best of runs), the same for `palisade
snapshot` and for scanning that snapshot offline, and the targets (< 5 s, < 300 MB).
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replay_server  # noqa: E402
from replay_server import timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--others", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--debug", action="store_true", help="use the debug build")
    ap.add_argument("--bin-dir", help="take palisade and palisade-replay from this directory "
                    "(another build, to compare; nothing is built)")
    ap.add_argument("--standalone-pods", action="store_true",
                    help="worst case: no Pod has an owner, so every Pod is scanned in full")
    a = ap.parse_args()

    rec = replay_server.recordings_or_exit()
    tdir = replay_server.build(a.debug, a.bin_dir)
    exe = os.path.join(tdir, "palisade")

    work = tempfile.mkdtemp(prefix="palisade-cluster-bench-")
    kc = os.path.join(work, "kubeconfig")
    srv = replay_server.start(tdir, rec, kc, ["--pods", str(a.pods), "--others", str(a.others)]
                              + (["--standalone-pods"] if a.standalone_pods else []))
    try:
        env = dict(os.environ, KUBECONFIG=kc)
        snap = os.path.join(work, "cluster.snapshot")
        rows = []
        for label, cmd in [
            ("scan --cluster", [exe, "scan", "--cluster", "--format", "json", "--output",
                                os.path.join(work, "report.json"), "--fail-on", "none"]),
            ("snapshot", [exe, "snapshot", "-o", snap]),
            ("scan SNAPSHOT", [exe, "scan", snap, "--format", "json", "--output",
                               os.path.join(work, "report2.json"), "--fail-on", "none"]),
        ]:
            best = None
            for _ in range(a.runs):
                dt, rss, code, err = timed(cmd, env)
                if code not in (0, 1):
                    sys.exit(f"{label} failed ({code}): {err}")
                best = (dt, rss) if best is None or dt < best[0] else best
            rows.append((label, best[0], best[1]))
        size = os.path.getsize(snap)
    finally:
        replay_server.stop([srv])

    shape = "standalone pods" if a.standalone_pods else "pods owned by ReplicaSets of Deployments"
    print(f"cluster: {a.pods} pods ({shape}) + {a.others} other objects (+ the recorded lists), "
          f"{replay_server.build_label(tdir)}, best of {a.runs}")
    for label, dt, rss in rows:
        print(f"  {label:16} {dt:6.2f} s   peak RSS {rss:6.1f} MiB")
    print(f"  snapshot file    {size / 1024 / 1024:6.2f} MiB")
    live = rows[0]
    # The target is in MB (10^6 bytes); RSS is printed in MiB.
    ok = live[1] < 5 and live[2] * 1.048576 < 300
    print(f"targets: scan < 5 s and < 300 MB: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
