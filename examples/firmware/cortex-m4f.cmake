# CMake toolchain file: bare-metal Cortex-M4F (single-precision FPU, hard-float ABI), run under
# qemu's mps2-an386 board. The rest is cortex-m.cmake.
#   cmake -S . -B build-m4f -DCMAKE_TOOLCHAIN_FILE=$PWD/cortex-m4f.cmake -DCMAKE_PREFIX_PATH=<host kc2cpp prefix>
set(_cpu "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
set(KC2CPP_QEMU_MACHINE mps2-an386)
include("${CMAKE_CURRENT_LIST_DIR}/cortex-m.cmake")
