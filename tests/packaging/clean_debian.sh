#!/usr/bin/env bash
# The .deb on a clean Debian: a debootstrapped minimal root of the host's release (cached, with
# g++, cmake and ninja added once), copied fresh per run; `apt-get install ./kc2cpp_*.deb` there
# must pull everything kc2cpp needs from its Depends; then, inside that root, kc2cpp compiles a
# model and the desktop example shipped in the package builds with find_package and passes its
# tests. Needs root, debootstrap and the network (the host's own apt mirror); off by default
# (-DKC2CPP_TEST_CLEAN_DEBIAN=ON). The cache is $KC2CPP_DEBIAN_ROOT (default /var/tmp/kc2cpp-debian-<release>).
#   clean_debian.sh <kc2cpp build dir> <kc2cpp source dir> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
build_dir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3
need cpack debootstrap chroot mount
(($(id -u) == 0)) || skip "needs root (debootstrap, chroot)"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || skip "cannot tell this system's Debian release"

# The host's Debian mirror, from its apt sources (deb822 or one-line format).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $mirror ]] || skip "no Debian mirror in this system's apt sources"

cache=${KC2CPP_DEBIAN_ROOT:-/var/tmp/kc2cpp-debian-$codename}
if [[ ! -f $cache/.kc2cpp-complete ]]; then
  log "debootstrap $codename into $cache (once)"
  rm -rf "$cache"
  debootstrap --variant=minbase "$codename" "$cache" "$mirror" >"$work.debootstrap.log" 2>&1 ||
    { tail -20 "$work.debootstrap.log"; die "debootstrap failed"; }
  cp /etc/resolv.conf "$cache/etc/resolv.conf"
  chroot "$cache" apt-get install -y -q --no-install-recommends g++ cmake ninja-build >"$work.tools.log" 2>&1 ||
    { tail -20 "$work.tools.log"; die "installing the build tools in $cache failed"; }
  chroot "$cache" apt-get clean
  touch "$cache/.kc2cpp-complete"
fi

fresh_dir "$work"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; die "cpack failed"; }
deb=$(ls "$work"/pkg/*.deb)

root=$work/root
cp -a "$cache" "$root"
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/kc2cpp.deb"
cp "$src/tests/fixtures/k3/dense_relu_softmax.h5" "$root/tmp/model.h5"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

if in_root dpkg -s libhdf5-103-1 >/dev/null 2>&1; then die "the clean root already has libhdf5"; fi
in_root apt-get update -q >"$work/apt.log" 2>&1 || { tail "$work/apt.log"; die "apt-get update failed"; }
in_root apt-get install -y -q --no-install-recommends /tmp/kc2cpp.deb >>"$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log"; die "apt-get install of the .deb failed"; }
log "apt-get set up: $(awk '/^Setting up/ {printf "%s ", $3}' "$work/apt.log")"
in_root kc2cpp --version || die "kc2cpp does not run on the clean system"
in_root kc2cpp /tmp/model.h5 -o /tmp/model.cpp --header /tmp/model.h --name model || die "kc2cpp cannot compile a model there"
in_root g++ -std=c++17 -Wall -Wextra -c /tmp/model.cpp -o /tmp/model.o || die "the generated file does not compile there"
in_root cmake -S /usr/share/doc/kc2cpp/examples/desktop -B /tmp/desktop -G Ninja >"$work/desktop.log" 2>&1 &&
  in_root cmake --build /tmp/desktop >>"$work/desktop.log" 2>&1 &&
  in_root ctest --test-dir /tmp/desktop --output-on-failure >>"$work/desktop.log" 2>&1 ||
  { tail -30 "$work/desktop.log"; die "the packaged desktop example failed on the clean system"; }
log "on a clean $codename: the .deb installs with its dependencies, compiles a model and builds the desktop example"
done_ok
