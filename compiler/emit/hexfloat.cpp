#include "emit/hexfloat.h"

#include <cstdint>
#include <cstring>

namespace kc2cpp::emit {

std::string hex_float(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const bool neg = bits >> 31;
  const uint32_t exp = (bits >> 23) & 0xff;
  const uint32_t mant = bits & 0x7fffff;
  std::string sign = neg ? "-" : "";
  if (exp == 0xff) return mant ? "__builtin_nanf(\"\")" : sign + "__builtin_huge_valf()";
  if (exp == 0 && mant == 0) return sign + "0x0p+0f";
  static const char* kDigits = "0123456789abcdef";
  // 23 mantissa bits, shifted left by one, are exactly six hex digits.
  std::string frac;
  uint32_t m = mant << 1;
  for (int i = 5; i >= 0; --i) frac += kDigits[(m >> (4 * i)) & 0xf];
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  const int e = exp == 0 ? -126 : static_cast<int>(exp) - 127;
  std::string out = sign + (exp == 0 ? "0x0" : "0x1");
  if (!frac.empty()) out += "." + frac;
  out += "p";
  out += (e >= 0 ? "+" : "-");
  out += std::to_string(e >= 0 ? e : -e);
  return out + "f";
}

}  // namespace kc2cpp::emit
