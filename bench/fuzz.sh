#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS of wall time each, seeded from
# fuzz/seeds/TARGET and the real-world data in ../shared/corpus, and prints one line per
# target as it ends, then a Markdown table of them all: wall time, executions, executions per
# second, coverage (libFuzzer's `cov` and `ft`), corpus size and the crashes found. Inputs that
# crash, time out or run out of memory are kept in fuzz/artifacts/TARGET/ (turn each into a
# regression test, and keep it as a seed in fuzz/seeds/TARGET/); the full libFuzzer output is
# fuzz/artifacts/TARGET.log.
#
# usage: bench/fuzz.sh [SECONDS] [TARGET...]    (default: 60 seconds, every target)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain with
# RUSTC_BOOTSTRAP=1. FUZZ_JOBS=N runs N targets at a time (default 1). FUZZ_SANITIZER=none
# falls back where the address sanitizer's runtime is missing. FUZZ_TIMEOUT (default 20)
# is the seconds one input may take before it counts as a timeout; FUZZ_RESTARTS (default
# 10) is how many times a target is started again after a crash within its SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-address}
timeout=${FUZZ_TIMEOUT:-20}
restarts=${FUZZ_RESTARTS:-10}

corpus=""
for c in ../shared/corpus ../../shared/corpus; do
  [ -d "$c" ] && corpus=$(cd "$c" && pwd) && break
done
[ -n "$corpus" ] || echo "warning: ../shared/corpus not found: only fuzz/seeds seed the targets" >&2

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^palisade-fuzz$')
fi

# Seeds: a folder per target, filled once from the corpus (small files only: libFuzzer's
# -max_len cuts the rest anyway).
seed_dir() {
  local t=$1 d="fuzz/corpus/$1"
  mkdir -p "$d"
  [ -d "fuzz/seeds/$t" ] && cp -n fuzz/seeds/"$t"/* "$d"/ 2>/dev/null || true
  [ -n "$corpus" ] || return 0
  local n src
  case $t in
    load_yaml|netpol|rbac) src=("$root/examples" "$corpus/real-manifests" "$corpus/checkov-k8s" "$corpus/psa") ;;
    policy) src=("$root/examples/policies" "$corpus/gatekeeper-library/library") ;;
    admission_review) src=("$corpus/apiserver-recordings/admission") ;;
    audit_events) src=("$corpus/falco-k8saudit" "$corpus/apiserver-recordings/audit") ;;
    config) src=("$root/examples") ;;
    *) src=() ;;
  esac
  if [ "$t" = config ]; then
    cp -n "$root"/examples/*.yaml "$root"/crates/report/tests/data/policy.yaml "$d"/ 2>/dev/null || true
    # and every YAML block of the documentation that configures Palisade
    find "$root/README.md" "$root/docs" -name '*.md' -print0 2>/dev/null |
      xargs -0 awk -v dir="$d" '
        /^```yaml/ { block = ""; inside = 1; next }
        /^```/ && inside { inside = 0
          if (block ~ /(^|\n)(defaultMode|profile|failOn|rules|exceptions|namespaces):/) {
            n++; f = dir "/doc-" n ".yaml"; printf "%s", block > f; close(f) }
          next }
        inside { block = block $0 "\n" }'
    return 0
  fi
  if [ "$t" = snapshot ]; then
    # the recorded list responses as snapshot content (header line, one object per line),
    # and the same compressed with their digest, as `palisade snapshot` writes them
    [ -n "$corpus" ] || return 0
    python3 - "$corpus/apiserver-recordings/api/responses" "$d" <<'PY'
import gzip, hashlib, json, pathlib, sys
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted(src.glob("*list_*.json*")):
    raw = f.read_bytes()
    try:
        doc = json.loads(gzip.decompress(raw) if f.suffix == ".gz" else raw)
    except ValueError:
        continue
    items = doc.get("items") or []
    kind = str(doc.get("kind", ""))[:-4] if str(doc.get("kind", "")).endswith("List") else ""
    items = [dict({"apiVersion": doc.get("apiVersion"), "kind": kind}, **i) for i in items
             if isinstance(i, dict)]
    lines = "".join(json.dumps(i, separators=(",", ":")) + "\n" for i in items)
    while len(lines) > 60000 and items:
        items = items[: len(items) // 2]
        lines = "".join(json.dumps(i, separators=(",", ":")) + "\n" for i in items)
    header = {"format": "palisade-snapshot/v1", "context": "kind-fuzz",
              "server": "https://127.0.0.1:6443", "serverVersion": "v1.32.0",
              "created": "2026-11-23T00:00:00Z", "palisadeVersion": "0.1.0",
              "objects": len(items),
              "digest": "sha256:" + hashlib.sha256(lines.encode()).hexdigest()}
    if "secrets" in f.name:
        header["unreadable"] = [{"resource": "secrets", "kind": "Secret", "status": 403,
                                 "message": "forbidden"}]
    body = json.dumps(header, separators=(",", ":")) + "\n" + lines
    stem = f.name.split(".")[0]
    (dst / (stem + ".txt")).write_text(body)
    (dst / (stem + ".snapshot")).write_bytes(gzip.compress(body.encode(), mtime=0))
PY
    return 0
  fi
  [ ${#src[@]} -gt 0 ] || return 0
  # up to 1000 files from each source, so that every source seeds the target
  local s f
  for s in "${src[@]}"; do
    [ -d "$s" ] || continue
    n=0
    while IFS= read -r f; do
      n=$((n + 1))
      cp -n "$f" "$d/${s##*/}-$n" 2>/dev/null || true
    done < <(find "$s" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.jsonl' \) \
               -size -64k 2>/dev/null | sort | head -n 1000)
  done
  return 0
}

# CPU time (clock ticks) of the finished children of this shell: with other work on the
# machine, executions per CPU second say what a target does when it has a core.
tick=$(getconf CLK_TCK 2>/dev/null || echo 100)
# (sets cpu_now; read here, not in a command substitution, which would be another process)
child_cpu() {
  local st
  cpu_now=0
  if read -r -a st <"/proc/$BASHPID/stat" 2>/dev/null; then cpu_now=$((st[15] + st[16])); fi
}

# One target for `seconds` of wall time. libFuzzer stops at the first crash, timeout or
# out-of-memory input; the input is kept in fuzz/artifacts/TARGET/ and the target is started
# again on the grown corpus for the time left (at most FUZZ_RESTARTS times), so that one early
# crash does not end its campaign. Figures are summed over the runs.
run_one() {
  local t=$1 log="fuzz/artifacts/$1.log" summary="fuzz/artifacts/summary/$1"
  mkdir -p "fuzz/artifacts/$t" fuzz/artifacts/summary
  seed_dir "$t"
  : >"$log"
  local extra=() asan=${ASAN_OPTIONS:-}
  # The policy loader leaks the metadata of each rule it loads on purpose (rules are
  # `&'static`): no leak check, neither libFuzzer's nor the sanitizer's at exit.
  case $t in policy) extra=(-detect_leaks=0) asan="detect_leaks=0${asan:+:$asan}" ;; esac
  local start end now left rc part execs=0 crashes=0 runs=0 kinds=""
  start=$(date +%s)
  local cpu_now cpu0
  child_cpu
  cpu0=$cpu_now
  end=$((start + seconds))
  while :; do
    now=$(date +%s)
    left=$((end - now))
    [ "$left" -gt 0 ] || break
    runs=$((runs + 1))
    part="fuzz/artifacts/$t.run$runs.log"
    set +e
    (cd fuzz && ASAN_OPTIONS="$asan" cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$left" -timeout="$timeout" -rss_limit_mb=1024 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${extra[@]}") >"$part" 2>&1
    rc=$?
    set -e
    cat "$part" >>"$log"
    execs=$((execs + $(sed -n 's/^stat::number_of_executed_units: *//p' "$part" | tail -1 | grep . || echo 0)))
    if [ $rc -ne 0 ]; then
      crashes=$((crashes + 1))
      local kind
      kind=$(grep -o -m1 -E 'ERROR: (libFuzzer|[A-Za-z]+Sanitizer): [a-z -]+|panicked at [^:]*:[0-9]+' "$part" | head -1 || true)
      kinds="$kinds${kinds:+; }${kind:-exit $rc}"
      [ "$runs" -le "$restarts" ] || break
    fi
    rm -f "$part"
  done
  local wall cov ft corp rate verdict=ok
  wall=$(($(date +%s) - start))
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" | tail -1 | cut -d' ' -f2)
  rate=$((execs / (wall > 0 ? wall : 1)))
  local cpu per_cpu="?"
  child_cpu
  cpu=$((cpu_now - cpu0))
  [ "$cpu" -gt 0 ] && per_cpu=$((execs * tick / cpu))
  [ $crashes -eq 0 ] || verdict="$crashes crash(es): $kinds (see $log, fuzz/artifacts/$t/)"
  printf '| %s | %s s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$wall" "$execs" "$rate" "$per_cpu" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict" >"$summary"
  printf '%-18s wall=%ss execs=%s execs/s=%s per-cpu-s=%s cov=%s ft=%s corpus=%s %s\n' "$t" "$wall" \
    "$execs" "$rate" "$per_cpu" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict"
}

(cd fuzz && cargo fuzz build --sanitizer "$sanitizer" >/dev/null)
jobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
  if [ "$jobs" -gt 1 ]; then
    run_one "$t" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  else
    run_one "$t"
  fi
done
wait
echo
echo "| target | wall | executions | exec/s | exec per CPU-s | cov | ft | corpus (inputs/bytes) | crashes |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do cat "fuzz/artifacts/summary/$t"; done
