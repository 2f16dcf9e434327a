# The common part of the bare-metal Cortex-M toolchain files (cortex-m4f.cmake, cortex-m3.cmake):
# Debian's arm-none-eabi-gcc and newlib-nano, no OS, no heap, no exceptions, no RTTI. The including
# file sets _cpu (the -mcpu/-mfpu/-mfloat-abi flags) and KC2CPP_QEMU_MACHINE (the qemu board the
# example runs on).
# Programs (kc2cpp, qemu) are searched on the build machine; nothing sets CMAKE_FIND_ROOT_PATH, so
# find_package(kc2cpp) finds the host package through CMAKE_PREFIX_PATH or kc2cpp_DIR.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Test programs cannot link without a startup file and linker script: only compile them.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "${_cpu} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${_cpu} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${_cpu}")
# Own startup code (no crt0), newlib-nano for memcpy/memset, unused sections dropped. No
# nosys/rdimon specs: a program that reaches for malloc or a syscall fails to link.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles --specs=nano.specs -Wl,--gc-sections")
unset(_cpu)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
