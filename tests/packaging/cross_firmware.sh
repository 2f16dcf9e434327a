#!/usr/bin/env bash
# Cross-compiling: examples/firmware built with its toolchain files, the model compiled by the HOST
# kc2cpp, run under qemu-system-arm. Three cross builds:
#   A. Cortex-M4F (mps2-an386), Ninja, -O3, the installed package (find_package through CMAKE_PREFIX_PATH);
#   B. Cortex-M4F, Unix Makefiles, -Os, cmake/kc2cppFunctions.cmake from the source tree + KC2CPP_EXECUTABLE;
#   E. Cortex-M3 (mps2-an385, no FPU: soft-float), Ninja, -Os, the installed package;
# plus the same program built for the host (C) and the reference evaluator, `kc2cpp eval` (D).
# The outputs of A, B, C, D and E must be the same bits (B and E build the model size-first,
# KC2CPP_OPTIMIZE_SIZE, as the example does in MinSizeRel). F: add_subdirectory() of the kc2cpp sources
# in a cross build is refused without a host kc2cpp and builds the model library with one. The firmware must not link malloc. For each
# cross build it prints the flash bytes of the model's own code (the functions of its namespace:
# predict and the kernels it calls), of its weights, which must equal the parameter bytes, and of
# libgcc's soft-float routines, and the SysTick ticks per predict (qemu -icount shift=0: 40
# instructions per tick). G prints the model code of three models (MLP, Conv1D, GRU) at -O2, -Os
# and -Os size-first on the Cortex-M4F.
#   cross_firmware.sh <prefix> <kc2cpp source dir> <host kc2cpp executable> <scratch dir>
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
prefix=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
exe=$3
work=$4
need cmake ninja make c++ od timeout arm-none-eabi-gcc arm-none-eabi-g++ arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
libc=$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -print-file-name=libc_nano.a)
[[ $libc == */* ]] || skip "newlib-nano for Cortex-M4F is not installed (Debian: libnewlib-arm-none-eabi)"
fresh_dir "$work"
fw=$src/examples/firmware
toolchain=$fw/cortex-m4f.cmake

# run_qemu <elf> <output file> [board]: boots the firmware; it prints its outputs and exits via semihosting.
run_qemu() {
  local rc=0
  timeout 60 qemu-system-arm -M "${3:-mps2-an386}" -icount shift=0 -nographic -monitor none -serial none -chardev stdio,id=con \
    -semihosting-config enable=on,target=native,chardev=con -kernel "$1" </dev/null >"$2" 2>&1 || rc=$?
  ((rc == 0)) && grep -q '^done$' "$2" || { cat "$2"; die "qemu run of $1 failed (exit $rc)"; }
}
outputs() { grep '^y\[' "$1" | sed 's/^y\[[0-9]*\]: //'; }

params=$("$exe" inspect "$fw/model.h5" | sed -n 's/^Total params: \([0-9,]*\).*/\1/p' | tr -d ,)
[[ -n $params ]] || die "kc2cpp inspect printed no parameter count"

check_elf() {
  local elf=$1
  if arm-none-eabi-nm "$elf" | grep -Eq ' (malloc|_malloc_r|_sbrk|_sbrk_r)$'; then die "$elf links a heap allocator"; fi
  log "$(basename "$(dirname "$elf")"): $(arm-none-eabi-size "$elf" | tail -1 | awk '{print "text " $1 ", data " $2 ", bss " $3 " bytes"}')"
  # Flash of the model (namespace walkthrough): functions, weight arrays (w_*), other constants;
  # and libgcc's single-precision soft-float routines (__aeabi_f*, __*sf*), which only a build
  # without FPU links.
  arm-none-eabi-nm -C -S --radix=d "$elf" | awk -v params="$params" '
    NF >= 4 && !seen[$1]++ {  # symbols with a size, each address once (aliases)
      name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name); size = $2 + 0
      if (name ~ /^__aeabi_f|^__[a-z]+sf[0-9a-z]*$/) soft += size
      else if (name !~ /walkthrough::/) next
      else if (name ~ /::w_[A-Za-z0-9_]*$/) weights += size
      else if ($3 ~ /^[TtWw]$/) code += size
      else other += size
    }
    END { printf "  model code %d bytes, weights %d bytes (parameters %d bytes), other constants %d bytes, soft-float routines %d bytes\n",
                 code, weights, 4 * params, other, soft
          if (weights != 4 * params) { print "  the weights in flash are not the parameter bytes"; exit 1 } }' >"$elf.flash" ||
    { cat "$elf.flash"; die "$elf: weights in flash differ from the model's parameter bytes (the scalar path pads no rows)"; }
  while read -r line; do log "$line"; done <"$elf.flash"
}

# model_code <model> <namespace> <flags...>: the model's own flash on the Cortex-M4F, from its object
# file: the functions of its namespace (predict, predict_batch, isa, reset/step for recurrent
# models, and the kernels they call) and its weight arrays, against the parameter bytes.
model_code() {
  local model=$1 ns=$2 obj
  shift 2
  obj=$work/code/$ns-$(echo "$*" | tr -c 'A-Za-z0-9\n' _).o
  mkdir -p "$work/code"
  [[ -f $work/code/$ns.cpp ]] || "$exe" "$model" -o "$work/code/$ns.cpp" --name "$ns" || die "kc2cpp $model failed"
  arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -std=c++17 -fno-exceptions -fno-rtti \
    -ffunction-sections -fdata-sections "$@" -c "$work/code/$ns.cpp" -o "$obj" || die "arm-none-eabi-g++ $* $ns failed"
  local p
  p=$("$exe" inspect "$model" | sed -n 's/^Total params: \([0-9,]*\).*/\1/p' | tr -d ,)
  arm-none-eabi-nm -C -S --radix=d "$obj" | awk -v ns="$ns::" -v params="$p" -v what="$*" '
    NF >= 4 {  # an object file: every section starts at 0
      name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name); if (index(name, ns) == 0) next
      if (name ~ /::w_[A-Za-z0-9_]*$/) weights += $2; else if ($3 ~ /^[TtWw]$/) code += $2
    }
    END { printf "  %-12s %-28s code %6d B   weights %6d B (parameters %6d B)\n", substr(ns, 1, length(ns) - 2), what, code, weights, 4 * params
          if (weights != 4 * params) exit 1 }' >"$obj.flash" || { cat "$obj.flash"; die "$ns: weights in flash differ from the parameter bytes"; }
  log "$(cat "$obj.flash")"
}

# A.
b=$work/m4f-ninja
configure "$fw" "$b" Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
build "$b"
grep -q "$prefix/bin/kc2cpp" "$b/build.ninja" || die "the cross build does not run the host kc2cpp from $prefix"
check_elf "$b/firmware.elf"
run_qemu "$b/firmware.elf" "$work/a.txt"
log "$(head -1 "$work/a.txt"); $(grep '^ticks per predict' "$work/a.txt"); $(grep '^stack used' "$work/a.txt")"

# B.
b=$work/m4f-make
configure "$fw" "$b" "Unix Makefiles" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DKC2CPP_EXECUTABLE="$exe" \
  -DCMAKE_DISABLE_FIND_PACKAGE_kc2cpp=ON -DCMAKE_BUILD_TYPE=MinSizeRel
build "$b"
check_elf "$b/firmware.elf"
run_qemu "$b/firmware.elf" "$work/b.txt"
log "$(grep '^ticks per predict' "$work/b.txt"); $(grep '^stack used' "$work/b.txt")"

# E.
libc_m3=$(arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -mfloat-abi=soft -print-file-name=libc_nano.a)
[[ $libc_m3 == */* ]] || die "newlib-nano for Cortex-M3 is missing (it comes with libnewlib-arm-none-eabi)"
b=$work/m3-ninja
configure "$fw" "$b" Ninja -DCMAKE_TOOLCHAIN_FILE="$fw/cortex-m3.cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=MinSizeRel
build "$b"
check_elf "$b/firmware.elf"
run_qemu "$b/firmware.elf" "$work/e.txt" mps2-an385
log "$(head -1 "$work/e.txt"); $(grep '^ticks per predict' "$work/e.txt"); $(grep '^stack used' "$work/e.txt")"

# G. The model's own code on the Cortex-M4F for three kinds of model, at -O2, -Os and -Os size-first.
log "model code on the Cortex-M4F (arm-none-eabi-g++ $(arm-none-eabi-g++ -dumpversion)), per object file:"
for m in "$fw/model.h5 walkthrough" "$src/tests/fixtures/k3/conv1d_padding.h5 conv1d" "$src/tests/fixtures/k3/gru_u8_back.h5 gru"; do
  read -r model ns <<<"$m"
  model_code "$model" "$ns" -O2
  model_code "$model" "$ns" -Os
  model_code "$model" "$ns" -Os -DKC2CPP_OPTIMIZE_SIZE
done

# C.
b=$work/host
configure "$fw" "$b" Ninja -DCMAKE_PREFIX_PATH="$prefix"
build "$b"
"$b/firmware_host" >"$work/c.txt" || die "firmware_host failed"

# D.
"$prefix/bin/kc2cpp" eval "$fw/model.h5" --input "$fw/inputs.npy" --output "$work/eval.npy" || die "kc2cpp eval failed"
cols=$(outputs "$work/c.txt" | head -1 | wc -w)
header_len=$(od -An -tu2 -j8 -N2 "$work/eval.npy" | tr -d ' ')
od -An -v -tx4 -w$((4 * cols)) -j$((10 + header_len)) "$work/eval.npy" | awk '{$1 = $1; print}' >"$work/d.txt"

outputs "$work/a.txt" >"$work/a.bits"
[[ -s $work/a.bits ]] || die "the firmware printed no outputs"
for run in b c d e; do
  if [[ $run == d ]]; then cp "$work/d.txt" "$work/d.bits"; else outputs "$work/$run.txt" >"$work/$run.bits"; fi
  diff "$work/a.bits" "$work/$run.bits" >"$work/diff_$run.txt" || { head "$work/diff_$run.txt"; die "firmware (A) and $run differ"; }
done
# F. add_subdirectory() of the kc2cpp sources in the cross build: refused at once without a host
# kc2cpp (not a failure to find the target's libhdf5), a library built with KC2CPP_EXECUTABLE.
sub=$src/tests/packaging/projects/cross_subdir
b=$work/subdir
if cmake -S "$sub" -B "$b-refused" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DKC2CPP_SOURCE_DIR="$src" \
  -DMODEL="$fw/model.h5" >"$b-refused.log" 2>&1; then
  die "add_subdirectory(kc2cpp) in a cross build configured without KC2CPP_EXECUTABLE"
fi
tr -s " \n" "  " <"$b-refused.log" | grep -q "would build kc2cpp for the target machine" || { cat "$b-refused.log"; die "not kc2cpp's message"; }
configure "$sub" "$b" Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DKC2CPP_SOURCE_DIR="$src" -DMODEL="$fw/model.h5" \
  -DKC2CPP_EXECUTABLE="$exe"
build "$b" net
log "add_subdirectory(kc2cpp) in a cross build: refused without KC2CPP_EXECUTABLE, the model library built with it"

log "$(wc -l <"$work/a.bits") x $cols outputs: the same bits from A (M4F -O3), B (M4F -Os), C (host, $(head -1 "$work/c.txt" | sed 's/.*ISA path //')), D (kc2cpp eval) and E (M3 soft-float -Os)"
done_ok
