#!/usr/bin/env bash
# Consumers of the installed package (find_package(kc2cpp CONFIG REQUIRED) through
# CMAKE_PREFIX_PATH): the desktop and game examples exactly as installed under
# share/doc/kc2cpp/examples, and projects/api_forms, which uses every form of add_keras_model()
# and a version request.
#   installed_consumer.sh <prefix> <kc2cpp source dir> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
prefix=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3
need cmake ninja c++
fresh_dir "$work"
cmake_dir=$prefix/share/cmake/kc2cpp

# The installed desktop example.
b=$work/desktop
configure "$prefix/share/doc/kc2cpp/examples/desktop" "$b" Ninja -DCMAKE_PREFIX_PATH="$prefix"
grep -q "^kc2cpp_DIR:PATH=$cmake_dir\$" "$b/CMakeCache.txt" || die "find_package did not use $cmake_dir"
build "$b"
grep -q "$prefix/bin/kc2cpp" "$b/build.ninja" || die "the build does not run the installed kc2cpp"
(cd "$b" && ctest --output-on-failure >"$b.ctest.log" 2>&1) || { cat "$b.ctest.log"; die "the desktop example's tests failed"; }
log "desktop example: $("$b/classify" --check "$prefix/share/doc/kc2cpp/examples/desktop/points.npy" \
  "$prefix/share/doc/kc2cpp/examples/desktop/keras_probs.npy" | tail -1)"

# The installed game example: its ctest checks determinism (two runs hashed frame by frame),
# step() against predict(), Keras's outputs and the scalar path's hash; the per-frame cost is
# only printed.
b=$work/game
configure "$prefix/share/doc/kc2cpp/examples/game" "$b" Ninja -DCMAKE_PREFIX_PATH="$prefix"
build "$b"
(cd "$b" && ctest --output-on-failure >"$b.ctest.log" 2>&1) || { cat "$b.ctest.log"; die "the game example's tests failed"; }
log "game example: $("$b/game" --agents 1024 --frames 200 | grep -E '^per frame')"

# Every argument form, Unix Makefiles. One model as a full .h5 and as JSON + weights (copies: the
# weights file is touched below).
b=$work/api_forms
cp "$src/tests/fixtures/k3/fmt_conv_bn.arch.json" "$src/tests/fixtures/k3/fmt_conv_bn.weights.h5" "$work/"
configure "$src/tests/packaging/projects/api_forms" "$b" "Unix Makefiles" -DCMAKE_PREFIX_PATH="$prefix" \
  -DMODEL="$src/tests/fixtures/k3/fmt_conv_bn.full.h5" -DARCH="$work/fmt_conv_bn.arch.json" \
  -DWEIGHTS="$work/fmt_conv_bn.weights.h5"
build "$b"
"$b/api_forms" || die "api_forms failed"
# install(TARGETS) of add_keras_model() libraries brings their generated headers along.
cmake --install "$b" --prefix "$work/api_install" >"$b.install.log" 2>&1 || { cat "$b.install.log"; die "cmake --install of api_forms failed"; }
for f in include/dense-net.h include/models/other_net.h include/pair_net.h lib/libdense-net.a lib/libpair_net.a; do
  [[ -f $work/api_install/$f ]] || { (cd "$work/api_install" && find . -type f); die "install(TARGETS) did not install $f"; }
done
log "install(TARGETS) of add_keras_model() libraries installs their generated headers"
# Touching the weights file (not the JSON) regenerates pair_net's source, and only that.
gen=$b/kc2cpp/pair_net/pair_net.cpp
before=$(mtime "$gen")
other_before=$(mtime "$b/kc2cpp/dense-net/dense-net.cpp")
sleep 1
touch "$work/fmt_conv_bn.weights.h5"
build "$b"
[[ $(mtime "$gen") != "$before" ]] || die "touching WEIGHTS did not regenerate $gen"
[[ $(mtime "$b/kc2cpp/dense-net/dense-net.cpp") == "$other_before" ]] || die "touching WEIGHTS regenerated dense-net too"
"$b/api_forms" || die "api_forms failed after regeneration"
log "add_keras_model(... MODEL model.json WEIGHTS model.weights.h5): built, agrees, regenerated when the weights change"
done_ok
