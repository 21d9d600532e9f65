"""What the cluster benchmarks share: the recorded API server (../shared/corpus/
apiserver-recordings), the build of `palisade` and `palisade-replay`, a replay server started
and waited for, and the timing of one command.

A replay server writes its kubeconfig once it listens, and serves until its standard input
closes (`stop`).
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def find_recordings():
    """The recorded API server's `api/` directory in a `shared/corpus` above the repository,
    or None."""
    d = ROOT
    while True:
        cand = os.path.join(d, "shared", "corpus", "apiserver-recordings", "api")
        if os.path.isfile(os.path.join(cand, "index.json")):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def recordings_or_exit():
    rec = find_recordings()
    if rec is None:
        sys.exit("shared/corpus/apiserver-recordings not found above the repository")
    return rec


def build(debug, bin_dir=None):
    """Builds `palisade` and `palisade-replay` (in CARGO_TARGET_DIR when set); returns the
    directory holding them. With `bin_dir` (another build, to compare), nothing is built."""
    if bin_dir:
        return os.path.abspath(bin_dir)
    profile = [] if debug else ["--release"]
    subprocess.run(["cargo", "build", "-q", *profile, "-p", "palisade", "-p", "palisade-replay"],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "debug" if debug else "release")


def build_label(tdir):
    """What the binaries of `tdir` are, for a benchmark's output: "release build" or "debug
    build" (a cargo profile directory), else the directory itself (given with --bin-dir)."""
    name = os.path.basename(os.path.normpath(tdir))
    return f"{name} build" if name in ("debug", "release") else f"the build in {tdir}"


def start(tdir, rec, kc, args, stderr=subprocess.PIPE):
    """Starts a replay server of the recordings `rec` with these extra arguments, and returns
    it once it has written its kubeconfig to `kc` (exits if it never does)."""
    srv = subprocess.Popen([os.path.join(tdir, "palisade-replay"), "--recordings", rec,
                            "--kubeconfig", kc, *args],
                           stdin=subprocess.PIPE, stderr=stderr)
    for _ in range(600):
        if os.path.exists(kc) and os.path.getsize(kc) > 0:
            break
        time.sleep(0.1)
    else:
        stop([srv])
        sys.exit("a replay server did not start")
    time.sleep(0.2)
    return srv


def stop(servers):
    """Closes the servers' standard input and waits for them to end."""
    for s in servers:
        s.stdin.close()
    for s in servers:
        s.wait(timeout=30)


def timed(cmd, env):
    """Runs a command; returns (seconds, peak RSS in MiB of this one child, returncode, stderr)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    return dt, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), err.decode()
