# CMake toolchain file: bare-metal Cortex-M4F (single-precision FPU, hard-float ABI) with Debian's
# arm-none-eabi-gcc and newlib-nano. No OS, no heap, no exceptions, no RTTI.
#   cmake -S . -B build-m4f -DCMAKE_TOOLCHAIN_FILE=cortex-m4f.cmake -DCMAKE_PREFIX_PATH=<host kc2cpp prefix>
# Programs (kc2cpp, qemu) are searched on the build machine; nothing sets CMAKE_FIND_ROOT_PATH, so
# find_package(kc2cpp) finds the host package through CMAKE_PREFIX_PATH or kc2cpp_DIR.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Test programs cannot link without a startup file and linker script: only compile them.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_m4f "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${_m4f} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${_m4f} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${_m4f}")
# Own startup code (no crt0), newlib-nano for memcpy/memset, unused sections dropped. No
# nosys/rdimon specs: a program that reaches for malloc or a syscall fails to link.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles --specs=nano.specs -Wl,--gc-sections")
unset(_m4f)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
