# shellcheck shell=bash
# Helpers shared by the packaging tests (sourced). Each test is a bash script that ctest runs
# with explicit paths as arguments; it works in its own scratch folder and exits 0 (pass),
# 1 (fail) or 77 (skipped: a tool it needs is missing, said loudly on stdout).
set -euo pipefail

readonly T0=$SECONDS
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '[%s +%ds] %s\n' "$(basename "$0" .sh)" $((SECONDS - T0)) "$*"; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIPPED: $*"; exit 77; }
need() { for t in "$@"; do command -v "$t" >/dev/null || skip "'$t' is not installed"; done; }
done_ok() { log "PASS ($((SECONDS - T0)) s)"; }

# fresh_dir <dir>: an empty scratch folder.
fresh_dir() { rm -rf "$1" && mkdir -p "$1"; }

# configure <src> <build> <generator> [cmake args...]; output kept in <build>.configure.log
configure() {
  local src=$1 build=$2 gen=$3
  shift 3
  log "configure $(basename "$src") -> $build ($gen)"
  cmake -S "$src" -B "$build" -G "$gen" "$@" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; die "configuring $src failed"; }
}

# build <build> [target]; output kept in <build>.build.log
build() {
  local b=$1
  shift
  cmake --build "$b" -j "$JOBS" ${1:+--target "$1"} >"$b.build.log" 2>&1 || { tail -60 "$b.build.log"; die "building $b failed"; }
}

# mtime in nanoseconds
mtime() { stat -c %.9Y "$1" | tr -d .; }
