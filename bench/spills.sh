#!/usr/bin/env bash
# Register spills in the generated code of the benchmark's models (issue 13's "no spills" target):
# each model is compiled the way the benchmark compiles it (-O3, -march per ISA path), by each
# compiler, and every instruction that moves a vector register (xmm/ymm/zmm) to or from the stack
# ((%rsp), or (%rbp) in a function that makes rbp its frame pointer) is counted, per function of the
# generated file. On x86-64 System V no vector register is callee-saved, so each such access is a
# spill, a reload or a vector array the compiler kept in memory. The brackets count the accesses
# inside loops (on a cycle of the function's control flow; bench/stack_accesses.py), as opposed to a
# prologue's save and an epilogue's reload, and of those the ones in an innermost loop (a loop with
# no loop inside it): the hot-loop spills, as opposed to a value saved and reloaded once around each
# run of an inner loop.
#   bench/spills.sh [-c "g++ clang++"] [-i "avx2 avx512"] [-f "unfused fused"] [-v] [model id ...]
#   -v: also list every function with stack accesses. Default models: all of bench/CMakeLists.txt's.
#   KC2CPP (default build/kc2cpp) is the compiler used to generate the sources.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kc2cpp="${KC2CPP:-$src/build/kc2cpp}"
compilers="g++ clang++" isas="avx2 avx512" fps="unfused fused" verbose=0
while getopts "c:i:f:v" opt; do
  case $opt in
    c) compilers=$OPTARG ;;
    i) isas=$OPTARG ;;
    f) fps=$OPTARG ;;
    v) verbose=1 ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ -x $kc2cpp ]] || { echo "spills.sh: $kc2cpp not found; build kc2cpp or set KC2CPP" >&2; exit 1; }

# The model ids and files, as bench/CMakeLists.txt resolves them.
model_file() {
  case $1 in
    walkthrough) echo "$src/tests/fixtures/k3/summary_walkthrough.h5" ;;
    *) if [[ -f $src/bench/models/$1.h5 ]]; then echo "$src/bench/models/$1.h5"; else echo "$src/tests/fixtures/k3/$1.h5"; fi ;;
  esac
}
if [[ $# -eq 0 ]]; then
  set -- walkthrough dense_8_8 dense_64_64 dense_64_64_64 \
    $(sed -n 's/^ *"\([a-z0-9_]*\)|.*/\1/p' "$src/bench/CMakeLists.txt")
fi

march() { case $1 in avx2) echo -march=x86-64-v3 ;; avx512) echo -march=x86-64-v4 ;; *) echo "unknown ISA $1" >&2; exit 2 ;; esac; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

printf '%-22s %-8s %-8s' "model" "isa" "fp"
for cxx in $compilers; do printf ' %34s' "$cxx: spills [loops, innermost] (worst fn)"; done
printf '\n'
for id in "$@"; do
  file=$(model_file "$id")
  [[ -f $file ]] || { echo "spills.sh: no model file for '$id'" >&2; exit 1; }
  for fp in $fps; do
    "$kc2cpp" "$file" -o "$tmp/m.cpp" --header "$tmp/m.h" --name kcs --fp "$fp" 2>/dev/null
    for isa in $isas; do
      printf '%-22s %-8s %-8s' "$id" "$isa" "$fp"
      details=""
      for cxx in $compilers; do
        "$cxx" -std=c++17 -O3 $(march "$isa") -c "$tmp/m.cpp" -o "$tmp/m.o"
        # per function: vector-register stack accesses, those inside a loop, those in an innermost one
        objdump -d --no-show-raw-insn -C "$tmp/m.o" | python3 "$src/bench/stack_accesses.py" >"$tmp/counts"
        total=$(awk -F'\t' '{ s += $1; l += $2; i += $3 } END { print s + 0 " [" l + 0 ", " i + 0 "]" }' "$tmp/counts")
        worst=$(head -1 "$tmp/counts" | cut -f4 | sed -E 's/^kcs::(kc::)?//; s/[<(].*//')
        printf ' %34s' "$total${worst:+ ($worst)}"
        [[ $verbose -eq 1 && -s $tmp/counts ]] && details+=$(awk -F'\t' -v c="$cxx" '{ printf "    %s: %d [%d, %d]\t%s\n", c, $1, $2, $3, $4 }' "$tmp/counts")$'\n'
      done
      printf '\n'
      [[ -n $details ]] && printf '%s' "$details"
    done
  done
done
