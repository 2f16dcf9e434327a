// The runtime's scalar math, compiled into the compiler (namespace kc2cpp::rt) so that the
// evaluator calls the very functions the generated code pastes.
#pragma once

#include <cmath>

#include "kc2cpp_isa.h"

namespace kc2cpp::rt {
#include "kc2cpp_simd.h"
#if !defined(KC2CPP_HAS_FMA)
// The --fp fused math (kc2cpp_math.h's mla) needs fma for float; built without a hardware FMA,
// the evaluator takes the correctly rounded one of <cmath>, the same single rounding.
inline float fma(float a, float b, float c) { return std::fma(a, b, c); }
#endif
#include "kc2cpp_math.h"
}  // namespace kc2cpp::rt
