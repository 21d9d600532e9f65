#!/usr/bin/env bash
# Load test of the admission webhook over TLS on loopback with the default rule set:
# p50/p90/p99 latency and throughput at fixed request rates (open loop).
# Usage: bash bench/admission_load.sh [--rates 500,2000] [--duration 10] [--connections 32]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --quiet --release -p palisade-admission --example loadgen -- --rates 500,2000 --duration 10 "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
