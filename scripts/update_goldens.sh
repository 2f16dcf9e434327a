#!/usr/bin/env bash
# Rewrites the committed goldens: every fixture's reference outputs (<name>.golden.y<k>.npy, by
# `kc2cpp eval`) and the emitted-text goldens (tests/e2e/golden/*.cpp.golden). Run it only when a
# change of the outputs is intended, and review the diff before committing.
#   KC2CPP_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${KC2CPP_BUILD_DIR:-build}
[ -f "$build_dir/build.ninja" ] || cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" --target kc2cpp kc2cpp_e2e
kc2cpp="$build_dir/kc2cpp"

# A fixture (the rule of tests/e2e/e2e_util.h): <name>.json with <name>.h5 and <name>.keras.y0.npy
# beside it, not "kind": "bad" and not a weights-only save ("weights_file").
rm -f tests/fixtures/k2/*.golden.y*.npy tests/fixtures/k3/*.golden.y*.npy
count=0
failed=()
for json in tests/fixtures/k2/*.json tests/fixtures/k3/*.json; do
  base=${json%.json}
  case "${base##*/}" in *.*) continue ;; esac  # <name>.arch.json
  [ -f "$base.h5" ] && [ -f "$base.keras.y0.npy" ] || continue
  grep -q '"kind": *"bad"' "$json" && continue
  grep -q '"weights_file"' "$json" && continue
  args=()
  for ((k = 0; ; ++k)); do
    [ -f "$base.x$k.npy" ] || break
    args+=(--input "$base.x$k.npy")
  done
  for ((k = 0; ; ++k)); do
    [ -f "$base.keras.y$k.npy" ] || break
    args+=(--output "$base.golden.y$k.npy")
  done
  if "$kc2cpp" eval "$base.h5" "${args[@]}"; then
    count=$((count + 1))
  else
    failed+=("$base")
  fi
done
echo "update_goldens: wrote the reference outputs of $count fixtures"

KC2CPP_UPDATE_GOLDENS=1 "$build_dir/tests/e2e/kc2cpp_e2e" --gtest_filter='*EmittedText*'
if ((${#failed[@]})); then
  echo "update_goldens: kc2cpp eval failed for ${#failed[@]} fixture(s), which now have no golden: ${failed[*]}" >&2
  exit 1
fi
echo "update_goldens: done; review 'git diff --stat tests/' before committing"
