#!/usr/bin/env bash
# In-tree use: examples/desktop built together with the kc2cpp source tree, through
# add_subdirectory (the example's KC2CPP_SOURCE_DIR, Ninja) and through FetchContent with
# SOURCE_DIR (tests/packaging/projects/fetchcontent, Unix Makefiles). Each build must classify the
# shipped points like Keras, be a no-op when rebuilt, and regenerate + rebuild after the model
# file is touched.
#   in_tree.sh <kc2cpp source dir> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
src=$(cd "$1" && pwd)
work=$2
need cmake ninja make c++
fresh_dir "$work"
cp -r "$src/examples/desktop" "$work/desktop"  # a copy: this test touches its model file
desktop=$work/desktop

run_classifier() {
  local exe=$1 out
  out=$("$exe" --check "$desktop/points.npy" "$desktop/keras_probs.npy") || { echo "$out"; die "$exe --check failed"; }
  log "$(echo "$out" | tail -1)"
  out=$("$exe" 0 0 1.5 0 2.5 2.5)
  echo "$out" | tr '\n' ' ' | grep -q -- '-> core.*-> ring.*-> outside' || { echo "$out"; die "wrong classes"; }
}

# check_no_op <build dir>: building again must compile, link and generate nothing.
check_no_op() {
  build "$1"
  if grep -E "Building CXX|Linking|kc2cpp: compiling|--name ring_model" "$1.build.log"; then die "$2 is not a no-op"; fi
}

# check_regeneration <build dir> <generated source> <program>: after touching the model, the
# next build runs kc2cpp, rewrites the generated source and relinks the program.
check_regeneration() {
  local b=$1 gen=$2 exe=$3
  [[ -f $gen ]] || die "no generated source at $gen"
  [[ -f ${gen%.cpp}.h ]] || die "no generated header beside $gen"
  local gen_before exe_before
  gen_before=$(mtime "$gen")
  exe_before=$(mtime "$exe")
  sleep 1
  touch "$desktop/model.h5"
  build "$b"
  grep -q "kc2cpp: compiling Keras model" "$b.build.log" || { cat "$b.build.log"; die "touching model.h5 did not run kc2cpp"; }
  (($(mtime "$gen") > gen_before)) || die "$gen was not regenerated"
  (($(mtime "$exe") > exe_before)) || die "$exe was not relinked"
  log "touching model.h5 regenerated $(basename "$gen") and relinked $(basename "$exe")"
}

# kc2cpp is compiled from source twice here: without optimisation or debug info to keep that short.
fast=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0)

# 1. add_subdirectory, Ninja.
b=$work/ninja
configure "$desktop" "$b" Ninja -DKC2CPP_SOURCE_DIR="$src" "${fast[@]}"
build "$b"
run_classifier "$b/classify"
check_no_op "$b" "a second build"
check_regeneration "$b" "$b/kc2cpp/ring_model/ring_model.cpp" "$b/classify"
check_no_op "$b" "the build after regeneration"
(cd "$b" && ctest --output-on-failure >"$b.ctest.log" 2>&1) || { cat "$b.ctest.log"; die "the example's ctest failed"; }

# 2. FetchContent(SOURCE_DIR), Unix Makefiles.
b=$work/make
configure "$src/tests/packaging/projects/fetchcontent" "$b" "Unix Makefiles" \
  -DKC2CPP_SOURCE_DIR="$src" -DDESKTOP_DIR="$desktop" "${fast[@]}"
build "$b"
run_classifier "$b/desktop/classify"
check_no_op "$b" "a second build"
check_regeneration "$b" "$b/desktop/kc2cpp/ring_model/ring_model.cpp" "$b/desktop/classify"
done_ok
