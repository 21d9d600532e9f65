#!/usr/bin/env python3
"""Benchmark of the background audit (`palisade audit serve`) against the replay server
serving a synthesized cluster: N standalone Pods (the worst case: every Pod is judged on its
own) and M other objects, cloned from the recorded kube-apiserver lists in
../shared/corpus/apiserver-recordings, plus every other recorded list. PolicyReports are
written to the replay server, which stores them.

usage: bench/audit_bench.py [--pods 10000] [--others 2000] [--cycles 3] [--change 100]
                            [--debug] [--bin-dir DIR] [--arenas 2] [--wrap 'heaptrack -o FILE']

Prints the time to the first completed cycle (cache sync + evaluation + reports), the time of
the following cycles (objects unchanged since the cycle before keep their per-object results;
the rules that relate objects to each other run again over the kinds they read; unchanged
reports are not rewritten), the largest report, and the process's peak RSS, against the
targets (< 300 MB, every report < 1 MiB). The server runs with MALLOC_ARENA_MAX=2, as
`palisade admission install` deploys it (`--arenas 0`: glibc's default). Once the first
cycle is done, `--change` Pods are changed (a new label, sent to the watch as MODIFIED): the
second cycle is the change cycle, and says how many objects it judged again.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replay_server  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--others", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--change", type=int, default=100,
                    help="Pods changed after the first cycle (0: none)")
    ap.add_argument("--arenas", type=int, default=2,
                    help="MALLOC_ARENA_MAX for the server, as `admission install` deploys it "
                    "(0: glibc's default, eight per core)")
    ap.add_argument("--wrap", default="",
                    help="run palisade under this command (a profiler such as 'heaptrack -o F'); "
                    "the peak RSS printed is then the wrapper's")
    ap.add_argument("--debug", action="store_true", help="use the debug build")
    ap.add_argument("--bin-dir", help="take palisade and palisade-replay from this directory "
                    "(another build, to compare; nothing is built)")
    a = ap.parse_args()
    rec = replay_server.recordings_or_exit()
    tdir = replay_server.build(a.debug, a.bin_dir)
    work = tempfile.mkdtemp(prefix="palisade-audit-bench-")
    kc = os.path.join(work, "kubeconfig")
    srv = replay_server.start(tdir, rec, kc, ["--pods", str(a.pods), "--others", str(a.others),
                                              "--standalone-pods", "--writable", "/apis/wgpolicyk8s.io/"],
                              stderr=subprocess.DEVNULL)
    try:
        cfg = os.path.join(work, "palisade.yaml")
        with open(cfg, "w") as f:
            f.write("profile: restricted\ndefaultMode: audit\n")
        env = dict(os.environ)
        if a.arenas > 0:
            env["MALLOC_ARENA_MAX"] = str(a.arenas)
        started = time.perf_counter()
        p = subprocess.Popen(a.wrap.split() + [os.path.join(tdir, "palisade"), "audit", "serve", "--config", cfg,
                              "--kubeconfig", kc, "--interval", "2s",
                              "--metrics-addr", f"127.0.0.1:{free_port()}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             env=env)
        cycles = []
        for line in p.stderr:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("message") == "background audit cycle":
                cycles.append((time.perf_counter(), ev))
                if len(cycles) == 1 and a.change > 0:
                    srv.stdin.write(f"change /api/v1/pods {a.change}\n".encode())
                    srv.stdin.flush()
                if len(cycles) > a.cycles:
                    break
        rss = peak_rss_mib(p.pid)
        p.kill()
        p.wait()
    finally:
        replay_server.stop([srv])
    if not cycles:
        sys.exit("no audit cycle completed")
    first_t, first = cycles[0]
    build = replay_server.build_label(tdir)
    print(f"cluster: {a.pods} standalone pods + {a.others} other objects (+ the recorded lists), "
          f"{build}")
    print(f"  first cycle done after {first_t - started:6.2f} s (start, cache sync, evaluation, "
          f"{first['applied']} reports written); {first['objects']} objects, {first['findings']} findings")
    for i, ((t0, _), (t1, ev)) in enumerate(zip(cycles, cycles[1:])):
        what = "change cycle" if i == 0 and a.change > 0 else "next cycle  "
        judged = f", {ev['judged']} objects judged again" if "judged" in ev else ""
        print(f"  {what}     {t1 - t0 - 2.0:6.2f} s (interval excluded): {ev['applied']} written, "
              f"{ev['unchanged']} unchanged{judged}")
    largest = max(ev["largest_report_bytes"] for _, ev in cycles)
    print(f"  largest report   {largest / 1024:6.1f} KiB")
    print(f"  peak RSS         {rss:6.1f} MiB")
    # The target is in MB (10^6 bytes); RSS is printed in MiB.
    ok = rss * 1.048576 < 300 and largest < 1 << 20
    print(f"targets: < 300 MB and every report < 1 MiB: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
