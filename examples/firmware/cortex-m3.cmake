# CMake toolchain file: bare-metal Cortex-M3 (no FPU: IEEE single precision in software, libgcc's
# soft-float routines), run under qemu's mps2-an385 board. The rest is cortex-m.cmake.
#   cmake -S . -B build-m3 -DCMAKE_TOOLCHAIN_FILE=$PWD/cortex-m3.cmake -DCMAKE_PREFIX_PATH=<host kc2cpp prefix>
set(_cpu "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
set(KC2CPP_QEMU_MACHINE mps2-an385)
include("${CMAKE_CURRENT_LIST_DIR}/cortex-m.cmake")
