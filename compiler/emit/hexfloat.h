// Exact, locale-independent float literals: "0x1.8p+1f", "-0x0p+0f", "0x1.fffffep+127f",
// denormals as "0x0.000002p-126f"; non-finite values as __builtin_huge_valf()/__builtin_nanf("").
#pragma once

#include <string>

namespace kc2cpp::emit {

std::string hex_float(float v);

}  // namespace kc2cpp::emit
