#!/usr/bin/env bash
# `cmake --install` of the enclosing build into a scratch prefix (the fixture the installed and
# cross tests use), then checks the layout: the binary, the CMake package, the docs and examples.
#   install.sh <kc2cpp build dir> <kc2cpp source dir> <prefix>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
build_dir=$1
src=$2
prefix=$3
need cmake
fresh_dir "$prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$prefix.install.log" 2>&1 || { cat "$prefix.install.log"; die "cmake --install failed"; }

expect=(
  bin/kc2cpp
  share/cmake/kc2cpp/kc2cppConfig.cmake
  share/cmake/kc2cpp/kc2cppConfigVersion.cmake
  share/cmake/kc2cpp/kc2cppTargets.cmake
  share/cmake/kc2cpp/kc2cppFunctions.cmake
  share/doc/kc2cpp/cmake.md
  share/doc/kc2cpp/LICENSE
  share/doc/kc2cpp/copyright
  share/doc/kc2cpp/changelog.gz
  share/man/man1/kc2cpp.1.gz
  share/doc/kc2cpp/examples/desktop/CMakeLists.txt
  share/doc/kc2cpp/examples/desktop/README.md
  share/doc/kc2cpp/examples/desktop/model.h5
  share/doc/kc2cpp/examples/game/CMakeLists.txt
  share/doc/kc2cpp/examples/game/model.h5
  share/doc/kc2cpp/examples/firmware/CMakeLists.txt
  share/doc/kc2cpp/examples/firmware/README.md
  share/doc/kc2cpp/examples/firmware/cortex-m4f.cmake
)
[[ -f $src/README.md ]] && expect+=(share/doc/kc2cpp/README.md)
for f in "${expect[@]}"; do
  [[ -e $prefix/$f ]] || { (cd "$prefix" && find . -type f | sort); die "missing from the install: $f"; }
done
[[ -x $prefix/bin/kc2cpp ]] || die "bin/kc2cpp is not executable"
"$prefix/bin/kc2cpp" --version >/dev/null || die "the installed kc2cpp does not run"
log "installed $(find "$prefix" -type f | wc -l) files; $("$prefix/bin/kc2cpp" --version)"
done_ok
