// The runtime compiled for the host test binary's own flags, pasted the way the emitter pastes it
// (kc2cpp_isa.h outside, the other headers inside a namespace).
#ifndef KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H
#define KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H

#include <cmath>

#include "kc2cpp_isa.h"

namespace kc_host {
namespace kc {
#include "kc2cpp_simd.h"
#if !defined(KC2CPP_HAS_FMA)
// The --fp fused math through the float path on a host without a hardware FMA (as the
// evaluator does): the correctly rounded fma of <cmath>.
inline float fma(float a, float b, float c) { return std::fma(a, b, c); }
#endif
#include "kc2cpp_math.h"
}  // namespace kc
}  // namespace kc_host

#endif  // KC2CPP_TESTS_RUNTIME_HOST_RUNTIME_H
