#!/usr/bin/env bash
# Installs every Debian package kc2cpp needs to build and test (skipped when all are installed),
# then configures and builds the project into build/ (Ninja, Release). The benchmark is built there
# for two of its variants only, as a compile check (on x86-64: avx2 unfused, avx512 fused);
# bench/run.sh builds every variant in a directory of its own.
#   KC2CPP_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  cmake ninja-build g++ clang                                   # build
  clang-14 libclang-rt-14-dev                                   # libFuzzer + ASan/UBSan runtimes (tests/fuzz)
  libhdf5-dev nlohmann-json3-dev libcli11-dev libxsimd-dev      # the compiler's libraries
  libeigen3-dev libzip-dev pkgconf                              # pkgconf: CMake finds libzip (.keras) with it
  libgtest-dev libbenchmark-dev                                 # tests, benchmarks
  g++-aarch64-linux-gnu qemu-user-static                        # NEON path: cross-build, run under qemu
  gcc-arm-none-eabi libnewlib-arm-none-eabi                     # Cortex-M4F firmware build and run
  libstdc++-arm-none-eabi-newlib qemu-system-arm
  hdf5-tools                                                    # h5dump, for looking into fixtures
  dpkg-dev file make                                            # CPack .deb (dpkg-shlibdeps), Makefile-generator tests
  lintian                                                       # the .deb's packaging test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "setup: not root and no sudo: install these packages first: ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} packages already installed"
fi

build_dir=${KC2CPP_BUILD_DIR:-build}
bench_variants=()
[ "$(uname -m)" = x86_64 ] && bench_variants=(-DKC2CPP_BENCH_VARIANTS="avx2:unfused;avx512:fused")
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${bench_variants[@]}"
cmake --build "$build_dir"
