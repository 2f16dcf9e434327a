// The runtime compiled for the host test binary's own flags, pasted the way the emitter pastes it
// (kc2cpp_isa.h outside, the other headers inside a namespace).
#ifndef KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H
#define KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H

#include "kc2cpp_isa.h"

namespace kc_host {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
}  // namespace kc
}  // namespace kc_host

#endif  // KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H
