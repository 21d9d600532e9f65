#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS each, one after the other, seeded
# from fuzz/seeds/TARGET and the real-world data in ../shared/corpus, and prints one line
# per target: executions, executions per second, coverage (libFuzzer's `cov`), features and
# whether it crashed. Inputs that crash or run out of memory are kept in
# fuzz/artifacts/TARGET/ (turn each into a regression test).
#
# usage: bench/fuzz.sh [SECONDS] [TARGET...]    (default: 60 seconds, every target)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain with
# RUSTC_BOOTSTRAP=1. FUZZ_JOBS=N runs N targets at a time (default 1). FUZZ_SANITIZER=none
# falls back where the address sanitizer's runtime is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-address}

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
  local n=0 src
  case $t in
    load_yaml|netpol|rbac) src=("$corpus/real-manifests" "$corpus/checkov-k8s" "$corpus/psa") ;;
    policy) src=("$corpus/gatekeeper-library/library") ;;
    admission_review) src=("$corpus/apiserver-recordings/admission") ;;
    audit_events) src=("$corpus/falco-k8saudit" "$corpus/apiserver-recordings/audit") ;;
    config) src=("$root/examples") ;;
    *) src=() ;;
  esac
  if [ "$t" = config ]; then
    cp -n "$root"/examples/*.yaml "$d"/ 2>/dev/null || true
    return 0
  fi
  [ ${#src[@]} -gt 0 ] || return 0
  while IFS= read -r f; do
    cp -n "$f" "$d/$(echo "$f" | md5sum | cut -c1-16)" 2>/dev/null || true
    n=$((n + 1))
    if [ $n -ge 2000 ]; then break; fi
  done < <(find "${src[@]}" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.jsonl' \) -size -64k 2>/dev/null | sort)
  return 0
}

run_one() {
  local t=$1 log="fuzz/artifacts/$1.log"
  mkdir -p "fuzz/artifacts/$t"
  seed_dir "$t"
  local extra=()
  case $t in policy) extra=(-detect_leaks=0) ;; esac
  set +e
  (cd fuzz && cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" "${extra[@]}") >"$log" 2>&1
  local rc=$?
  set -e
  local execs rate cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local verdict=ok
  [ $rc -eq 0 ] || verdict="CRASH (exit $rc; see $log and fuzz/artifacts/$t/)"
  printf '%-18s execs=%-10s execs/s=%-7s cov=%-6s ft=%-7s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$verdict"
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
