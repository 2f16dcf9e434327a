#!/usr/bin/env bash
# Compile cost of a generated file (default: the MNIST network, tests/fixtures/k3/mnist_hdf5matrix.h5):
# kc2cpp's own time, the generated source's size, then `g++ -std=c++17 <flags> -c` on it, one line
# per flag set, with wall / user / sys time and peak RSS from /usr/bin/time -v, and the object size.
#
#   bench/compile_cost.sh [model.h5]
#
#   BUILD_DIR   build directory holding (or receiving) the kc2cpp binary (default /tmp/build-bench)
#   CXX         compiler (default g++)
#   FLAG_SETS   ';'-separated flag sets (default "-O2;-O2 -march=native")
#   NICE        prefix for the compiles (default "nice"; CPU times are unaffected by it)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(dirname "$here")"
build="${BUILD_DIR:-/tmp/build-bench}"
model="${1:-$src/tests/fixtures/k3/mnist_hdf5matrix.h5}"
cxx="${CXX:-g++}"
nice_cmd="${NICE-nice}"
IFS=';' read -r -a flag_sets <<<"${FLAG_SETS:--O2;-O2 -march=native}"

if [[ ! -x "$build/kc2cpp" ]]; then
  { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKC2CPP_BUILD_TESTS=OFF &&
    $nice_cmd cmake --build "$build" --target kc2cpp -j 2; } >"$build/compile-cost-build.log" 2>&1 ||
    { echo "compile_cost.sh: building kc2cpp failed (log: $build/compile-cost-build.log)" >&2; exit 1; }
fi
work="$(mktemp -d /tmp/kc2cpp-compile-cost.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# "field value" from a /usr/bin/time -v log
tv() { grep -F "$2" "$1" | head -1 | sed 's/.*: //'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
secs() {  # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{ s = 0; for (i = 1; i <= NF; ++i) s = s * 60 + $i; printf "%.1f", s }' <<<"$1"
}

echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compiler: $("$cxx" --version | head -1)"
echo "model:    $model"

/usr/bin/time -v "$build/kc2cpp" "$model" -o "$work/model.cpp" --header "$work/model.h" --name model 2>"$work/kc2cpp.time"
printf 'kc2cpp:   %s s wall, %s s user, peak RSS %s MB; source %s MB (%s lines), header %s bytes\n' \
  "$(secs "$(tv "$work/kc2cpp.time" 'Elapsed (wall clock)')")" "$(tv "$work/kc2cpp.time" 'User time')" \
  "$(mb "$(tv "$work/kc2cpp.time" 'Maximum resident set size')")" \
  "$(awk -v b="$(stat -c %s "$work/model.cpp")" 'BEGIN { printf "%.1f", b / 1e6 }')" \
  "$(wc -l <"$work/model.cpp")" "$(stat -c %s "$work/model.h")"

printf '\n| %-34s | %8s | %8s | %7s | %13s | %9s | %9s |\n' "g++ -std=c++17 ... -c model.cpp" "wall s" "user s" "sys s" "peak RSS MB" "object MB" ".text KB"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "----------" "----------" "---------" "---------------" "-----------" "-----------"
for flags in "${flag_sets[@]}"; do
  # shellcheck disable=SC2086
  if ! $nice_cmd /usr/bin/time -v "$cxx" -std=c++17 $flags -c "$work/model.cpp" -o "$work/model.o" 2>"$work/cc.time"; then
    cat "$work/cc.time" >&2
    exit 1
  fi
  text=$(size -A "$work/model.o" | awk '$1 ~ /^\.text/ { s += $2 } END { printf "%.0f", s / 1024 }')
  printf '| %-34s | %8s | %8s | %7s | %13s | %9s | %9s |\n' "$flags" \
    "$(secs "$(tv "$work/cc.time" 'Elapsed (wall clock)')")" "$(tv "$work/cc.time" 'User time')" \
    "$(tv "$work/cc.time" 'System time')" "$(mb "$(tv "$work/cc.time" 'Maximum resident set size')")" \
    "$(awk -v b="$(stat -c %s "$work/model.o")" 'BEGIN { printf "%.1f", b / 1e6 }')" "$text"
done
