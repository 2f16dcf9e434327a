#!/usr/bin/env bash
# Runs a libFuzzer target of kc2cpp (tests/fuzz/) for a while, building it first.
#
#   scripts/fuzz.sh file 120            # the file bytes through the whole compile path, 2 minutes
#   scripts/fuzz.sh config 3700         # the model config through lower/plan/emit/eval, ~1 hour
#   scripts/fuzz.sh data 120            # a data file's bytes (eval --input) through data::Source
#   scripts/fuzz.sh --build-only        # configure and build the targets and seed the corpora
#   scripts/fuzz.sh config 600 -jobs=2 -workers=2   # extra arguments go to libFuzzer
#
# Long runs (docs/fuzzing.md), in the background with a log, at the lowest priority:
#   nice -n 19 scripts/fuzz.sh file 3700 > fuzz-file.log 2>&1 &
#
# The build (clang, ASan + UBSan, -DKC2CPP_FUZZ=ON; KC2CPP_FUZZ_JOBS parallel jobs, default 2) goes to
# $KC2CPP_FUZZ_BUILD_DIR (default build-fuzz). The corpus grows in <build>/corpus/<target>, seeded
# from tests/fixtures (k3, k2) on the first run; the committed regression inputs in tests/fuzz/regressions/<target> are run first,
# every time. A finding (a crash, a sanitizer report, an exception other than kc2cpp::Error, a
# timeout of 60 s, more than 4 GB) stops the run with exit status 1 and leaves the input in
# <build>/artifacts/<target>/; without findings the exit status is 0. The last lines of the output
# are libFuzzer's final stats (execs, coverage).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KC2CPP_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cxx="${KC2CPP_FUZZ_CXX:-clang++-14}"
cc="${KC2CPP_FUZZ_CC:-clang-14}"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

build_targets() {
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_C_COMPILER="$cc" -DKC2CPP_FUZZ=ON >/dev/null
  fi
  cmake --build "$build" --parallel "${KC2CPP_FUZZ_JOBS:-2}" --target kc2cpp_fuzz_file kc2cpp_fuzz_config kc2cpp_fuzz_data kc2cpp_fuzz_seeds
  if [[ ! -d "$build/corpus/config" ]]; then
    "$build/tests/fuzz/kc2cpp_fuzz_seeds" "$build/corpus/file.new" "$build/corpus/config.new" \
      "$root/tests/fixtures/k3" "$root/tests/fixtures/k2"
    mv "$build/corpus/file.new" "$build/corpus/file"
    mv "$build/corpus/config.new" "$build/corpus/config"
  fi
  if [[ ! -d "$build/corpus/data" ]]; then  # the fixtures' inputs up to 64 KiB (HDF5 seeds: regressions/data)
    mkdir -p "$build/corpus/data.new"
    find "$root/tests/fixtures/k3" -name '*.x0.npy' -size -65k -exec cp {} "$build/corpus/data.new/" \;
    mv "$build/corpus/data.new" "$build/corpus/data"
  fi
}

if [[ "${1:-}" == --build-only ]]; then
  build_targets
  exit 0
fi
if [[ $# -lt 2 || ! "$1" =~ ^(file|config|data)$ || ! "$2" =~ ^[0-9]+$ ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi
target="$1" seconds="$2"
shift 2
build_targets
mkdir -p "$build/artifacts/$target"
extra=()
if [[ $target == file || $target == data ]]; then
  # Every input forks the loader child: a small ASan quarantine keeps the parent small and the fork fast
  # (twice the executions per second). Leaks are looked for by the config target.
  export ASAN_OPTIONS="quarantine_size_mb=8:thread_local_quarantine_size_kb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  extra=(-detect_leaks=0)
fi
exec "$build/tests/fuzz/kc2cpp_fuzz_$target" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" "${extra[@]}" "$@" \
  "$build/corpus/$target" "$root/tests/fuzz/regressions/$target"
