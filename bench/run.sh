#!/usr/bin/env bash
# Build and run the kc2cpp benchmark; prints the summary table.
#
#   bench/run.sh [--full] [--benchmark_* flags ...]
#
#   BUILD_DIR   build directory (default /tmp/build-bench)
#   CXX         compiler (default: CMake's choice)
#   --full      also print Google Benchmark's per-benchmark lines (default: summary table only)
# Anything else is passed to kc2cpp_bench (Google Benchmark flags, e.g.
# --benchmark_filter=dense_64_64/ --benchmark_repetitions=10).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(dirname "$here")"
build="${BUILD_DIR:-/tmp/build-bench}"

quiet=--quiet
args=()
for a in "$@"; do
  if [[ "$a" == "--full" ]]; then quiet=""; else args+=("$a"); fi
done

mkdir -p "$build"
log="$build/bench-build.log"
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKC2CPP_BUILD_BENCH=ON -DKC2CPP_BUILD_TESTS=OFF &&
       cmake --build "$build" --target kc2cpp_bench -j "$(nproc)"; } >"$log" 2>&1; then
  grep -E "error|Error" "$log" | head -20 >&2
  echo "bench/run.sh: build failed (full log: $log)" >&2
  exit 1
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs"
echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(sse2|avx|avx2|fma|avx512f|avx512bw|avx512vl)$' | tr '\n' ' ')"
exec "$build/bench/kc2cpp_bench" $quiet "${args[@]+"${args[@]}"}"
