// Latency of kc2cpp_math.h functions on the widest ISA path the build flags select: each function
// applied to its own result in a dependent chain (x <- f(x)), timed against a chain of multiplies
// (4 cycles each on current x86 cores), so the figures are cycles per call, not throughput.
// Compiled twice by bench/math_latency.sh, once against the runtime of a git revision (namespace
// before) and once against the working tree's (namespace after); both run in one process, side by
// side, best of 30 runs each.
#include "kc2cpp_isa.h"

#include <cstddef>
#include <cstdint>

// -DKC_MATH_MODE='<true>' measures the --fp fused math (flags with an FMA; both revisions at or
// after the one that added it); by default the functions' unfused default.
#if !defined(KC_MATH_MODE)
#define KC_MATH_MODE
#endif

// Every chain: X(function name, label, the step x <- expr). chain_mul is the clock.
#define KC_MATH_CHAINS(X)                                            \
  X(chain_mul, "mul", kc::mul(x, x))                                 \
  X(chain_exp, "exp(-x)", kc::exp KC_MATH_MODE(kc::neg(x)))          \
  X(chain_expm1, "expm1(-x)", kc::expm1 KC_MATH_MODE(kc::neg(x)))    \
  X(chain_tanh, "tanh", kc::tanh KC_MATH_MODE(x))                    \
  X(chain_sigmoid, "sigmoid", kc::sigmoid KC_MATH_MODE(x))           \
  X(chain_elu, "elu(-x)", kc::elu KC_MATH_MODE(kc::neg(x), 1.0f))    \
  X(chain_erf, "erf", kc::erf KC_MATH_MODE(x))

#if defined(KC_MATH_LATENCY_TU)
namespace KC_MATH_LATENCY_TU {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
}  // namespace kc
#define KC_DEFINE(fn, label, expr)           \
  float fn(float x0, long n) {               \
    kc::vf x = kc::vsplat(x0);               \
    for (long i = 0; i < n; ++i) x = (expr); \
    float out[kc::kLanes];                   \
    kc::vstore(out, x);                      \
    return out[0];                           \
  }
KC_MATH_CHAINS(KC_DEFINE)
const char* isa() { return kc::isa_name(); }
}  // namespace KC_MATH_LATENCY_TU

#elif defined(KC_MATH_LATENCY_EIGEN)
// Eigen 3's vectorised exp and tanh on its widest float packet (what RTNeural's Eigen backend
// calls), sigmoid as 1 / (1 + exp(-x)): the same chains, for the Eigen column.
#include <Eigen/Core>
namespace eigen_ref {
namespace ei = Eigen::internal;
using P = ei::packet_traits<float>::type;
#define KC_EIGEN_CHAIN(fn, step)                                  \
  float fn(float x0, long n) {                                    \
    P x = ei::pset1<P>(x0);                                       \
    for (long i = 0; i < n; ++i) x = (step);                      \
    return ei::pfirst(x);                                         \
  }
KC_EIGEN_CHAIN(chain_mul, ei::pmul(x, x))
KC_EIGEN_CHAIN(chain_exp, ei::pexp(ei::pnegate(x)))
KC_EIGEN_CHAIN(chain_tanh, ei::ptanh(x))
KC_EIGEN_CHAIN(chain_sigmoid, ei::pdiv(ei::pset1<P>(1.0f), ei::padd(ei::pset1<P>(1.0f), ei::pexp(ei::pnegate(x)))))
#undef KC_EIGEN_CHAIN
}  // namespace eigen_ref

#else  // the driver
#include <algorithm>
#include <chrono>
#include <cstdio>

#define KC_DECLARE(fn, label, expr) float fn(float, long);
namespace before {
KC_MATH_CHAINS(KC_DECLARE)
const char* isa();
}  // namespace before
namespace after {
KC_MATH_CHAINS(KC_DECLARE)
const char* isa();
}  // namespace after

#if defined(KC_MATH_HAVE_EIGEN)
namespace eigen_ref {
float chain_mul(float, long);
float chain_exp(float, long);
float chain_tanh(float, long);
float chain_sigmoid(float, long);
}  // namespace eigen_ref
#endif

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

// The Eigen chain of a row, if the driver was built with Eigen (KC_MATH_HAVE_EIGEN) and has one.
Chain eigen_chain(Chain after_fn) {
#if defined(KC_MATH_HAVE_EIGEN)
  if (after_fn == after::chain_exp) return eigen_ref::chain_exp;
  if (after_fn == after::chain_tanh) return eigen_ref::chain_tanh;
  if (after_fn == after::chain_sigmoid) return eigen_ref::chain_sigmoid;
#endif
  (void)after_fn;
  return nullptr;
}

int main() {
  struct Row { const char* name; Chain b, a; };
#define KC_ROW(fn, label, expr) {label, before::fn, after::fn},
  const Row rows[] = {KC_MATH_CHAINS(KC_ROW)};
  std::printf("dependent-chain latency, %s path, cycles per call (a multiply = 4)\n", after::isa());
  std::printf("  %-10s %8s %8s %7s %8s\n", "function", "before", "after", "ratio", "Eigen");
  for (const Row& r : rows) {
    if (r.b == before::chain_mul) continue;  // the clock itself
    // Calibrate next to each measurement: the core clock moves with the load on the other cores.
    const double cb = best_ns_per_step(before::chain_mul) / 4, b = best_ns_per_step(r.b) / cb;
    const double ca = best_ns_per_step(after::chain_mul) / 4, a = best_ns_per_step(r.a) / ca;
    std::printf("  %-10s %8.1f %8.1f %6.2fx", r.name, b, a, b / a);
#if defined(KC_MATH_HAVE_EIGEN)
    if (const Chain e = eigen_chain(r.a)) {
      const double ce = best_ns_per_step(eigen_ref::chain_mul) / 4;
      std::printf(" %8.1f", best_ns_per_step(e) / ce);
    }
#endif
    std::printf("\n");
  }
}
#endif
