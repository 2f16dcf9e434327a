// The runtime's scalar math, compiled into the compiler (namespace kc2cpp::rt) so that the
// evaluator calls the very functions the generated code pastes.
#pragma once

#include "kc2cpp_isa.h"

namespace kc2cpp::rt {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
}  // namespace kc2cpp::rt
