// Deterministic test inputs for the runtime bit-identity tests, shared by the host test and the
// cross-compiled dump programs so both sides evaluate exactly the same arrays.
//
// Layout of each of the three operand arrays a, b, c (kInputCount floats, a multiple of 16):
//   [0, S*S)       every ordered pair (a, b) of the S special values, c cycling through them
//   [S*S, ...)     four bands filled by a fixed splitmix64 stream: uniform in [-32, 32),
//                  uniform over sign and binade (all finite magnitudes), raw 32-bit patterns
//                  (NaNs and Infs included), uniform in [-128, 128)
#ifndef KC2CPP_TESTS_RUNTIME_RT_INPUTS_H
#define KC2CPP_TESTS_RUNTIME_RT_INPUTS_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace kc_rt_test {

constexpr std::size_t kInputCount = std::size_t{1} << 17;

inline float f_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline std::uint32_t u_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Values where some function or activation changes behaviour, plus IEEE specials.
inline std::vector<float> special_values() {
  const std::uint32_t patterns[] = {
      0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u,
      0x7fbfffffu, 0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu, 0x00800000u, 0x80800000u,
      0x7f7fffffu, 0xff7fffffu, 0x33000000u, 0xb3000000u, 0x33800000u, 0xb3800000u,
      0x32ffffffu, 0x3f7fffffu, 0x3f800001u, 0xbf7fffffu, 0xbf800001u};
  const float values[] = {
      1.0f,        -1.0f,       0.5f,       -0.5f,         2.0f,        3.0f,        -3.0f,
      6.0f,        -6.0f,       6.0000005f, 5.9999995f,    1.5f,        3.5f,        4.0f,
      -4.0f,       3.92f,       -3.92f,     9.01f,         -9.02f,      10.0f,       -20.0f,
      20.0f,       15.0f,       15.000001f, -17.0f,        -17.000002f, 17.4f,       -17.4f,
      24.0f,       88.72283f,   88.72284f,  89.0f,         -87.33654f,  -103.97208f, -103.97209f,
      -104.0f,     -100.0f,     100.0f,     -200.0f,       0.34657359f, -0.34657359f, 0.6931472f,
      -0.6931472f, 0.7071068f,  1.4142135f, 1e-8f,         -1e-8f,      1e-30f,      -1e-30f,
      0.2f,        -2.5f,       2.5f,       0.1f,          -0.1f,       1e10f,       -1e10f,
      7e12f,       -7e12f,      1e20f,      -1e20f};
  std::vector<float> out;
  for (std::uint32_t p : patterns) out.push_back(f_of(p));
  for (float v : values) out.push_back(v);
  return out;
}

struct SplitMix64 {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint32_t bits32() { return static_cast<std::uint32_t>(next() >> 32); }
  // Uniform in [-2^e, 2^e) on a grid of 2^24 points; exact (integer to float, power-of-two
  // scale), so no compiler's contraction or excess precision can change it.
  float uniform_pow2(int e) {
    const std::int32_t k = static_cast<std::int32_t>(bits32() >> 8) - (1 << 23);
    return static_cast<float>(k) * f_of(static_cast<std::uint32_t>(127 + e - 23) << 23);
  }
  float any_finite() {
    const std::uint32_t sign = bits32() & 0x80000000u;
    const std::uint32_t exponent = bits32() % 255u;  // 0..254: subnormals and every normal binade
    return f_of(sign | (exponent << 23) | (bits32() & 0x007fffffu));
  }
};

struct Inputs {
  std::vector<float> a, b, c;
};

inline Inputs make_inputs() {
  const std::vector<float> sv = special_values();
  const std::size_t s = sv.size();
  Inputs in;
  in.a.resize(kInputCount);
  in.b.resize(kInputCount);
  in.c.resize(kInputCount);
  std::size_t i = 0;
  for (std::size_t p = 0; p < s * s; ++p, ++i) {
    in.a[i] = sv[p / s];
    in.b[i] = sv[p % s];
    in.c[i] = sv[(p * 7 + 3) % s];
  }
  SplitMix64 rng{0x6b6332637070ull};  // fixed seed: "kc2cpp"
  const std::size_t band = (kInputCount - i) / 4;
  for (std::vector<float>* v : {&in.a, &in.b, &in.c}) {
    std::size_t j = i;
    for (std::size_t k = 0; k < band; ++k) (*v)[j++] = rng.uniform_pow2(5);
    for (std::size_t k = 0; k < band; ++k) (*v)[j++] = rng.any_finite();
    for (std::size_t k = 0; k < band; ++k) (*v)[j++] = f_of(rng.bits32());
    while (j < kInputCount) (*v)[j++] = rng.uniform_pow2(7);
  }
  return in;
}

// The same bits, or both NaN (NaN payloads are not part of the contract).
inline bool same_bits(float x, float y) { return u_of(x) == u_of(y) || (x != x && y != y); }

}  // namespace kc_rt_test

#endif  // KC2CPP_TESTS_RUNTIME_RT_INPUTS_H
