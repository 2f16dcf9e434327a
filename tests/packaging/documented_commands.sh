#!/usr/bin/env bash
# The commands the documentation shows, run as written: each is first checked to appear verbatim
# in its document, then run (bash -c) in a scratch folder laid out as the document assumes, with
# the installed kc2cpp on the PATH. The only substitution is the one the documents themselves
# state: an install under <prefix> instead of /usr (the .deb) reads <prefix>/share/doc for
# /usr/share/doc, and CMAKE_PREFIX_PATH=<prefix> in the environment. Documented commands this
# cannot run: scripts/run_example.sh and run_tests.sh (they install Debian packages), the .deb
# install, and the from-source build (only configured here: its object count is checked).
#   documented_commands.sh <kc2cpp source dir> <prefix> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
src=$(cd "$1" && pwd)
prefix=$(cd "$2" && pwd)
work=$3
need cmake ninja c++
fresh_dir "$work"
export PATH="$prefix/bin:$PATH" CMAKE_PREFIX_PATH="$prefix"
fixtures=$src/tests/fixtures/k3

# doc <document> <folder> <line>...: each line appears verbatim in the document (a command over
# several lines: all but the last end in a backslash); run the command in the folder.
doc() {
  local file=$src/$1 dir=$2 cmd="" line
  shift 2
  for line in "$@"; do
    grep -qF -- "$line" "$file" || die "$file does not show: $line"
    cmd+="${line%\\} "
  done
  log "${file#"$src"/}: $cmd"
  cmd=${cmd//\/usr\/share\/doc/$prefix/share/doc}
  cmd=${cmd//<host kc2cpp prefix>/$prefix}
  (cd "$dir" && bash -c "set -e; $cmd") >"$work/last.log" 2>&1 || { cat "$work/last.log"; die "the documented command failed: $cmd"; }
}

# README.md: the command lines at the top and the eval/check section, on models and data of the
# fixtures under the names the README uses.
d=$work/readme
mkdir -p "$d"
cp "$fixtures/summary_walkthrough.keras" "$d/model.keras"
cp "$fixtures/summary_walkthrough.x0.npy" "$d/x.npy"
cp "$fixtures/fmt_conv_bn.arch.json" "$d/model.json"
cp "$fixtures/fmt_conv_bn.weights.h5" "$d/model.weights.h5"
cp "$fixtures/mnist_hdf5matrix.h5" "$d/model.h5"
cp "$fixtures/mnist_hdf5matrix.data.h5" "$d/test.hdf5"
cp "$fixtures/mnist_hdf5matrix.data.keras.npy" "$d/keras_out.npy"
doc README.md "$d" "kc2cpp model.json --weights model.weights.h5 -o model.cpp"
[[ -s $d/model.cpp ]] || die "no model.cpp"
doc README.md "$d" "kc2cpp inspect model.keras"
doc README.md "$d" "kc2cpp eval model.keras --input x.npy --output y.npy"
[[ -s $d/y.npy ]] || die "no y.npy"
doc README.md "$d" "kc2cpp eval model.h5 --input test.hdf5:/image --scale 1/255 --output preds.h5:/y"
[[ -s $d/preds.h5 ]] || die "no preds.h5"
cmd="kc2cpp check model.h5 --input test.hdf5:/image --scale 1/255 --labels test.hdf5:/label --keras keras_out.npy"
doc README.md "$d" "$cmd"
out=$(cd "$d" && bash -c "$cmd" 2>&1)
while IFS= read -r line; do
  grep -qF -- "    $line" "$src/README.md" || die "README.md does not show what '$cmd' prints: $line"
done <<<"$out"
log "README.md shows exactly what check prints"

# examples/quickstart/README.md, from a folder laid out like the repository.
d=$work/quickstart
mkdir -p "$d/examples"
cp -r "$src/examples/quickstart" "$d/examples/"
doc examples/quickstart/README.md "$d" "mkdir -p build/quickstart"
doc examples/quickstart/README.md "$d" \
  "kc2cpp examples/quickstart/model.h5 -o build/quickstart/model.cpp --header build/quickstart/model.h --name model"
doc examples/quickstart/README.md "$d" \
  "g++ -std=c++17 -O2 -march=native -Ibuild/quickstart examples/quickstart/main.cpp build/quickstart/model.cpp -o build/quickstart/quickstart"
doc examples/quickstart/README.md "$d" \
  "build/quickstart/quickstart examples/quickstart/inputs.npy examples/quickstart/keras_outputs.npy"

# examples/desktop and examples/game: as installed, built in a folder of one's own.
d=$work/desktop
mkdir -p "$d"
doc examples/desktop/README.md "$d" "cmake -S /usr/share/doc/kc2cpp/examples/desktop -B build"
doc examples/desktop/README.md "$d" "cmake --build build"
doc examples/desktop/README.md "$d" "build/classify 0 0  1.5 0  2.5 2.5"
grep -qF -- "$(tail -1 "$work/last.log")" "$src/examples/desktop/README.md" || die "examples/desktop/README.md does not show classify's output"

d=$work/game
mkdir -p "$d"
doc examples/game/README.md "$d" "cmake -S /usr/share/doc/kc2cpp/examples/game -B build"
doc examples/game/README.md "$d" "cmake --build build"
doc examples/game/README.md "$d" "build/game"
hashes=$(grep '^simulation hash' "$work/last.log")
grep -qxF -- "$hashes" "$src/examples/game/README.md" || die "examples/game/README.md shows other hashes than: $hashes"
log "examples/game/README.md shows the hashes build/game prints: $hashes"
cp -r "$prefix/share/doc/kc2cpp/examples/game" "$d/copy"
doc examples/game/README.md "$d/copy" \
  "cmake -S . -B build-native -DCMAKE_CXX_FLAGS=-march=native && cmake --build build-native && build-native/game"
grep -qxF -- "$hashes" "$work/last.log" || die "the native build of the game prints other hashes"

# docs/cmake.md: the from-source build without tests and benchmarks (configured only).
d=$work/source
mkdir -p "$d"
cp -r "$src/CMakeLists.txt" "$src/cmake" "$src/compiler" "$src/runtime_min" "$src/packaging" "$src/docs" "$src/examples" "$d/"
cp "$src/README.md" "$src/LICENSE" "$d/"
CMAKE_GENERATOR=Ninja doc docs/cmake.md "$d" \
  "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKC2CPP_BUILD_TESTS=OFF -DKC2CPP_BUILD_BENCH=OFF"
objects=$(ninja -C "$d/build" -t targets all | grep -c '\.o: ' || true)
sources=$(find "$d/compiler" -name '*.cpp' | wc -l)
((objects > 0 && objects <= sources + 1)) || die "the documented from-source build would compile $objects objects (tests or benchmarks included?)"
log "the documented from-source build compiles $objects objects (the compiler's $sources sources and its embedded runtime)"

# examples/firmware/README.md and docs/cmake.md: the cross build, from a folder laid out like the
# repository (the toolchain file given as an absolute path).
if command -v arm-none-eabi-g++ >/dev/null; then
  d=$work/firmware
  mkdir -p "$d/examples"
  cp -r "$src/examples/firmware" "$d/examples/"
  first='cmake -S examples/firmware -B build-m4f -DCMAKE_TOOLCHAIN_FILE=$PWD/examples/firmware/cortex-m4f.cmake \'
  grep -qF -- "$first" "$src/docs/cmake.md" || die "docs/cmake.md does not show: $first"
  doc examples/firmware/README.md "$d" "$first" "-DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_PREFIX_PATH=<host kc2cpp prefix>"
  doc examples/firmware/README.md "$d" "cmake --build build-m4f            # prints arm-none-eabi-size"
  if command -v qemu-system-arm >/dev/null; then
    doc examples/firmware/README.md "$d" "cmake --build build-m4f --target run"
    grep -q '^done' "$work/last.log" || { cat "$work/last.log"; die "the firmware did not finish"; }
  else
    log "SKIPPED the firmware's run target: qemu-system-arm is not installed"
  fi
else
  log "SKIPPED the firmware cross build: arm-none-eabi-g++ is not installed"
fi
done_ok
