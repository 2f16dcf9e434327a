#!/usr/bin/env bash
# Latency of the runtime's math functions (dependent chains), a git revision's runtime_min/ beside
# the working tree's, in one process, and Eigen's exp, tanh and 1 / (1 + exp(-x)) beside them:
#   bench/math_latency.sh [REV] [compiler flags]    (default REV: HEAD~1, flags: -O2 -march=native)
#   bench/math_latency.sh REV -O2 -march=native '-DKC_MATH_MODE=<true>'   (the --fp fused math)
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev="${1:-HEAD~1}"
shift || true
flags=("$@")
[[ ${#flags[@]} -gt 0 ]] || flags=(-O2 -march=native)
cxx="${CXX:-g++}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/before"
for h in kc2cpp_isa.h kc2cpp_simd.h kc2cpp_math.h; do
  git -C "$src" show "$rev:runtime_min/$h" >"$tmp/before/$h"
done
"$cxx" -std=c++17 "${flags[@]}" -I"$tmp/before" -DKC_MATH_LATENCY_TU=before -c "$src/bench/math_latency.cpp" -o "$tmp/before.o"
"$cxx" -std=c++17 "${flags[@]}" -I"$src/runtime_min" -DKC_MATH_LATENCY_TU=after -c "$src/bench/math_latency.cpp" -o "$tmp/after.o"
objs=("$tmp/before.o" "$tmp/after.o") driver_flags=()
eigen=/usr/include/eigen3  # Eigen's column (Debian's libeigen3-dev), where it is installed
if [[ -f $eigen/Eigen/Core ]]; then
  "$cxx" -std=c++17 "${flags[@]}" -I"$eigen" -I"$src/runtime_min" -DKC_MATH_LATENCY_EIGEN -c "$src/bench/math_latency.cpp" -o "$tmp/eigen.o"
  objs+=("$tmp/eigen.o") driver_flags=(-DKC_MATH_HAVE_EIGEN)
fi
"$cxx" -std=c++17 -O2 "${driver_flags[@]}" -I"$src/runtime_min" "$src/bench/math_latency.cpp" "${objs[@]}" -o "$tmp/math_latency"
echo "before: $(git -C "$src" rev-parse --short "$rev") ($rev), after: working tree; $cxx ${flags[*]}"
"$tmp/math_latency"
