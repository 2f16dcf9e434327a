// Latency of kc2cpp_math.h functions on the widest ISA path the build flags select: each function
// applied to its own result in a dependent chain (x <- f(x)), timed against a chain of multiplies
// (4 cycles each on current x86 cores), so the figures are cycles per call, not throughput.
// Compiled twice by bench/math_latency.sh, once against the runtime of a git revision (namespace
// before) and once against the working tree's (namespace after); both run in one process, side by
// side, best of 30 runs each.
#include "kc2cpp_isa.h"

#include <cstddef>
#include <cstdint>

#if defined(KC_MATH_LATENCY_TU)
namespace KC_MATH_LATENCY_TU {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
}  // namespace kc
#define KC_CHAIN(name, expr)                          \
  float name(float x0, long n) {                      \
    kc::vf x = kc::vsplat(x0);                        \
    for (long i = 0; i < n; ++i) x = (expr);          \
    float out[kc::kLanes];                            \
    kc::vstore(out, x);                               \
    return out[0];                                    \
  }
KC_CHAIN(chain_mul, kc::mul(x, x))
KC_CHAIN(chain_exp, kc::exp(kc::neg(x)))
KC_CHAIN(chain_expm1, kc::expm1(kc::neg(x)))
KC_CHAIN(chain_tanh, kc::tanh(x))
KC_CHAIN(chain_sigmoid, kc::sigmoid(x))
KC_CHAIN(chain_elu, kc::elu(kc::neg(x), 1.0f))
KC_CHAIN(chain_erf, kc::erf(x))
const char* isa() { return kc::isa_name(); }
}  // namespace KC_MATH_LATENCY_TU

#else  // the driver
#include <algorithm>
#include <chrono>
#include <cstdio>

#define KC_DECLARE(ns)                                                                           \
  namespace ns {                                                                                 \
  float chain_mul(float, long);                                                                  \
  float chain_exp(float, long);                                                                  \
  float chain_expm1(float, long);                                                                \
  float chain_tanh(float, long);                                                                 \
  float chain_sigmoid(float, long);                                                              \
  float chain_elu(float, long);                                                                  \
  float chain_erf(float, long);                                                                  \
  const char* isa();                                                                             \
  }
KC_DECLARE(before)
KC_DECLARE(after)

namespace {
using Chain = float (*)(float, long);
constexpr long kSteps = 100000;

double best_ns_per_step(Chain f) {
  double best = 1e30;
  for (int run = 0; run < 30; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile float sink = f(0.5f, kSteps);
    (void)sink;
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / kSteps);
  }
  return best;
}
}  // namespace

int main() {
  struct Row { const char* name; Chain b, a; };
  const Row rows[] = {
      {"exp(-x)", before::chain_exp, after::chain_exp},
      {"expm1(-x)", before::chain_expm1, after::chain_expm1},
      {"tanh", before::chain_tanh, after::chain_tanh},
      {"sigmoid", before::chain_sigmoid, after::chain_sigmoid},
      {"elu(-x)", before::chain_elu, after::chain_elu},
      {"erf", before::chain_erf, after::chain_erf},
  };
  std::printf("dependent-chain latency, %s path, cycles per call (a multiply = 4)\n", after::isa());
  std::printf("  %-10s %8s %8s %7s\n", "function", "before", "after", "ratio");
  for (const Row& r : rows) {
    // Calibrate next to each measurement: the core clock moves with the load on the other cores.
    const double cb = best_ns_per_step(before::chain_mul) / 4, b = best_ns_per_step(r.b) / cb;
    const double ca = best_ns_per_step(after::chain_mul) / 4, a = best_ns_per_step(r.a) / ca;
    std::printf("  %-10s %8.1f %8.1f %6.2fx\n", r.name, b, a, b / a);
  }
}
#endif
