#!/usr/bin/env python3
"""Memory of `palisade scan --cluster --all-contexts` over a fleet, against the scan of its
largest cluster alone, in the same run.

usage: bench/fleet_bench.py [--pods 2000,4000,8000] [--others 1000] [--runs 2] [--debug]
                            [--bin-dir DIR]

Starts one replay server per size (../shared/corpus/apiserver-recordings, with that many
standalone Pods and --others other objects), writes one kubeconfig with a context per server,
and prints the peak RSS and wall time of the fleet scan and of the largest cluster's scan, and
their ratio. Contexts are read, scanned and freed one at a time, so the fleet's peak should be
the largest cluster's, not the sum.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replay_server  # noqa: E402
from replay_server import timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", default="2000,4000,8000")
    ap.add_argument("--others", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("--bin-dir", help="take palisade and palisade-replay from this directory "
                    "(another build; nothing is built)")
    a = ap.parse_args()
    rec = replay_server.recordings_or_exit()
    tdir = replay_server.build(a.debug, a.bin_dir)
    exe = os.path.join(tdir, "palisade")
    sizes = [int(s) for s in a.pods.split(",")]
    work = tempfile.mkdtemp(prefix="palisade-fleet-bench-")
    servers, config = [], {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                           "contexts": [], "current-context": "c0"}
    try:
        for i, n in enumerate(sizes):
            kc = os.path.join(work, f"kubeconfig-{i}")
            servers.append(replay_server.start(
                tdir, rec, kc, ["--pods", str(n), "--others", str(a.others), "--standalone-pods"]))
            # The replay server writes its kubeconfig as JSON (which kubeconfig readers take
            # as YAML): cluster `replay`, user `admin`.
            with open(kc) as f:
                one = json.load(f)
            cluster = next(c["cluster"] for c in one["clusters"] if c["name"] == "replay")
            server, ca = cluster["server"], cluster["certificate-authority-data"]
            token = next(u["user"]["token"] for u in one["users"] if u["name"] == "admin")
            config["clusters"].append({"name": f"c{i}", "cluster": {
                "server": server, "certificate-authority-data": ca}})
            config["users"].append({"name": f"u{i}", "user": {"token": token}})
            config["contexts"].append({"name": f"c{i}", "context": {"cluster": f"c{i}", "user": f"u{i}"}})
        kc = os.path.join(work, "fleet.kubeconfig")
        with open(kc, "w") as f:
            json.dump(config, f)
        env = dict(os.environ, KUBECONFIG=kc)
        largest = f"c{sizes.index(max(sizes))}"
        rows = {}
        for label, cmd in [
            ("fleet", [exe, "scan", "--cluster", "--all-contexts", "--format", "json", "--output",
                       os.path.join(work, "fleet.json"), "--fail-on", "none"]),
            ("largest", [exe, "scan", "--cluster", "--context", largest, "--format", "json",
                         "--output", os.path.join(work, "largest.json"), "--fail-on", "none"]),
        ]:
            best = None
            for _ in range(a.runs):
                dt, rss, code, err = timed(cmd, env)
                if code not in (0, 1):
                    sys.exit(f"{label} failed ({code}): {err}")
                best = (dt, rss) if best is None else (min(best[0], dt), max(best[1], rss))
            rows[label] = best
    finally:
        replay_server.stop(servers)
    res = {
        "clusters": len(sizes),
        "pods": sizes,
        "others": a.others,
        "fleetSeconds": round(rows["fleet"][0], 2),
        "fleetPeakRssMiB": round(rows["fleet"][1], 1),
        "largestSeconds": round(rows["largest"][0], 2),
        "largestPeakRssMiB": round(rows["largest"][1], 1),
        "fleetRssOverLargest": round(rows["fleet"][1] / rows["largest"][1], 2),
    }
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
