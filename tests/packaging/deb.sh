#!/usr/bin/env bash
# CPack .deb: builds it from the enclosing build, runs lintian on it (no error, no warning),
# inspects its control data and contents (copyright, changelog, manual page), checks
# that every shared library kc2cpp links directly comes from a package its Depends names (so
# apt pulls them onto a clean system), then unpacks it into a scratch root and uses it from
# there: kc2cpp compiles a model, and the desktop example shipped in the package builds against
# the package's CMake files and classifies like Keras.
#   deb.sh <kc2cpp build dir> <kc2cpp source dir> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
build_dir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3
need cmake cpack ninja c++ dpkg dpkg-deb dpkg-shlibdeps file objdump ldd
fresh_dir "$work"

cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; die "cpack failed"; }
deb=$(ls "$work"/pkg/*.deb)
log "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == kc2cpp ]] || die "Package is '$(field Package)'"
[[ $(field Architecture) == $(dpkg --print-architecture) ]] || die "Architecture is '$(field Architecture)'"
depends=$(field Depends)
log "Depends: $depends"
[[ $depends == *libhdf5* ]] || die "Depends does not name libhdf5"

dpkg-deb -c "$deb" | awk '{print $NF}' >"$work/contents.txt"
for f in ./usr/bin/kc2cpp ./usr/share/cmake/kc2cpp/kc2cppConfig.cmake ./usr/share/cmake/kc2cpp/kc2cppFunctions.cmake \
  ./usr/share/doc/kc2cpp/copyright ./usr/share/doc/kc2cpp/changelog.gz ./usr/share/man/man1/kc2cpp.1.gz \
  ./usr/share/doc/kc2cpp/LICENSE ./usr/share/doc/kc2cpp/cmake.md ./usr/share/doc/kc2cpp/examples/desktop/CMakeLists.txt \
  ./usr/share/doc/kc2cpp/examples/firmware/CMakeLists.txt; do
  grep -qx -- "$f" "$work/contents.txt" || die "the package lacks $f"
done
if grep -v '^\./usr/\|^\./$' "$work/contents.txt"; then die "the package installs outside /usr"; fi

if command -v lintian >/dev/null; then
  lintian --fail-on error,warning "$deb" >"$work/lintian.log" 2>&1 || { cat "$work/lintian.log"; die "lintian reports errors or warnings"; }
  grep -E '^[EW]: ' "$work/lintian.log" && die "lintian reports errors or warnings"
  log "lintian: no errors or warnings"
else
  log "SKIPPED lintian: not installed (scripts/setup.sh installs it)"
fi

root=$work/root
dpkg-deb -x "$deb" "$root"
kc2cpp=$root/usr/bin/kc2cpp

# Direct NEEDED libraries -> owning packages -> each must be in Depends.
dep_names=" $(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | tr '\n' ' ') "
ldd "$kc2cpp" >"$work/ldd.txt"
for needed in $(objdump -p "$kc2cpp" | awk '$1 == "NEEDED" {print $2}'); do
  path=$(awk -v l="$needed" '$1 == l {print $3}' "$work/ldd.txt")
  [[ -n $path && -e $path ]] || die "$needed does not resolve on this machine"
  pkg=""
  for p in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr$path"; do
    pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $pkg ]] && break
  done
  [[ -n $pkg ]] || die "no package owns $path ($needed)"
  [[ $dep_names == *" $pkg "* ]] || die "$needed comes from $pkg, which Depends does not name"
done
log "every NEEDED library of kc2cpp comes from a package in Depends"

[[ $("$kc2cpp" --version) == "kc2cpp $(field Version)" ]] || die "kc2cpp --version does not print 'kc2cpp $(field Version)'"
zcat "$root/usr/share/doc/kc2cpp/changelog.gz" | head -1 | grep -q "^kc2cpp ($(field Version))" ||
  die "the changelog's latest entry is not version $(field Version)"
grep -q "The files kc2cpp generates" "$root/usr/share/doc/kc2cpp/copyright" || die "the copyright file does not state the terms of generated files"
"$kc2cpp" "$src/tests/fixtures/k3/dense_relu_softmax.h5" -o "$work/m.cpp" --header "$work/m.h" --name m ||
  die "the packaged kc2cpp cannot compile a model"
c++ -std=c++17 -c -Wall -Wextra -I"$work" "$work/m.cpp" -o "$work/m.o" || die "its output does not compile"

b=$work/desktop
configure "$root/usr/share/doc/kc2cpp/examples/desktop" "$b" Ninja -DCMAKE_PREFIX_PATH="$root/usr"
grep -q "^kc2cpp_DIR:PATH=$root/usr/share/cmake/kc2cpp\$" "$b/CMakeCache.txt" || die "find_package did not use the unpacked package"
build "$b"
(cd "$b" && ctest --output-on-failure >"$b.ctest.log" 2>&1) || { cat "$b.ctest.log"; die "the packaged desktop example failed"; }
log "the unpacked package compiles models and builds the shipped desktop example"
done_ok
