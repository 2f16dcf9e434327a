#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit, runtime, end-to-end).
# Exits non-zero if anything fails.
#   KC2CPP_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${KC2CPP_BUILD_DIR:-build}
start=$SECONDS
bash scripts/setup.sh
status=0
ctest --test-dir "$build_dir" -j2 --output-on-failure || status=$?

# The one-line summaries the end-to-end tests print (ctest shows test output only on failure).
log="$build_dir/Testing/Temporary/LastTest.log"
if [ -f "$log" ]; then
  grep -h -E '^\[ (matrix|stream|inspect|cortex-m|sanitize) +\]|^\[ keras +\] worst|^\[ cli +\] [0-9]+ fixtures' "$log" || true
  grep -h -E '^\[ corrupt +\] [0-9]+ bit flips|^Done [0-9]+ runs in' "$log" || true  # the corpus; the fuzz runs
  grep -h -o -E 'SKIPPED(:| configuration| [^ ]+:).*' "$log" | sort -u || true
fi
echo "run_tests: $((SECONDS - start)) s, ctest exit status $status"
exit "$status"
