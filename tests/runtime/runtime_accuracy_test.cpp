// Accuracy of kc2cpp_math.h against double-precision references (<cmath> is allowed in tests).
//
// Sweep: every `step`-th 32-bit pattern (all signs, binades, NaNs, Infs; step 127 by default) plus
// the special values of rt_inputs.h. KC2CPP_EXHAUSTIVE=1 in the environment sweeps all 2^32
// patterns (minutes per function), KC2CPP_SWEEP_STEP=n every n-th; the bounds asserted for the
// seven math functions are the ones measured exhaustively and documented in kc2cpp_math.h and
// SPEC.md. The vf path is swept; the bit-identity tests make every other path give the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "host_runtime.h"
#include "rt_inputs.h"

namespace kc_rt_test {
namespace {

namespace kc = kc_host::kc;

// |got - ref| in units of the ULP of float at ref (subnormal ULP below 2^-126; ULP of the top
// binade beyond FLT_MAX). NaN must meet NaN; an infinite ref must be met exactly.
double ulp_error(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0.0 : INFINITY;
  if (std::isnan(got)) return INFINITY;
  if (std::isinf(ref)) return static_cast<double>(got) == ref ? 0.0 : INFINITY;
  if (std::isinf(got)) {
    // Overflow is right when ref rounds to Inf in float.
    return static_cast<double>(static_cast<float>(ref)) == static_cast<double>(got) ? 0.0 : INFINITY;
  }
  const double a = std::fabs(ref);
  int e = 0;
  std::frexp(a < 0x1p-126 ? 0x1p-126 : (a > 0x1.fffffep127 ? 0x1.fffffep127 : a), &e);
  return std::fabs(static_cast<double>(got) - ref) / std::ldexp(1.0, e - 24);
}

using VecFn = kc::vf (*)(kc::vf);
using FloatFn = float (*)(float);
using RefFn = double (*)(double);

struct Case {
  const char* name;
  VecFn fn;          // swept through vf; when null, through float_fn instead
  RefFn ref;
  double max_ulp;    // asserted bound
  double abs_tol;    // where |ref| < abs_below, an error within abs_tol also passes
  double abs_below;  // (0, 0: the ULP bound applies everywhere)
  FloatFn float_fn = nullptr;  // the --fp fused math: its vf path needs a hardware FMA the host may lack
};

struct Worst {
  double ulp = 0.0;  // largest ULP error where |ref| >= abs_below
  float x = 0.0f, got = 0.0f;
  double abs_err = 0.0;  // largest absolute error where |ref| < abs_below
  std::uint64_t failures = 0;
};

// KC2CPP_EXHAUSTIVE=1: every pattern; KC2CPP_SWEEP_STEP=n: every n-th; default every 127th.
std::uint64_t sweep_step() {
  const char* e = std::getenv("KC2CPP_EXHAUSTIVE");
  if (e && *e && *e != '0') return 1;
  const char* s = std::getenv("KC2CPP_SWEEP_STEP");
  const long long n = s ? std::atoll(s) : 0;
  return n > 0 ? static_cast<std::uint64_t>(n) : 127u;
}

// Results with |ref| >= abs_below are judged in ULP, the others by the ULP bound or abs_tol.
void check_block(const Case& c, const float* x, std::size_t n, Worst& w) {
  float out[kc::kLanes];
  for (std::size_t i = 0; i < n; i += kc::kLanes) {
    if (c.fn) {
      kc::vstore(out, c.fn(kc::vload(x + i)));
    } else {
      for (int l = 0; l < kc::kLanes; ++l) out[l] = c.float_fn(x[i + l]);
    }
    for (int l = 0; l < kc::kLanes; ++l) {
      const double ref = c.ref(static_cast<double>(x[i + l]));
      const double err = ulp_error(out[l], ref);
      if (std::fabs(ref) < c.abs_below) {
        const double abs_err = std::fabs(static_cast<double>(out[l]) - ref);
        w.abs_err = std::max(w.abs_err, abs_err);
        if (err <= c.max_ulp || abs_err <= c.abs_tol) continue;
      } else if (err > w.ulp) {
        w.ulp = err, w.x = x[i + l], w.got = out[l];
      }
      if (err > c.max_ulp) ++w.failures;
    }
  }
}

Worst sweep(const Case& c) {
  Worst w;
  std::vector<float> block;
  block.reserve(4096);
  auto flush = [&] {
    while (block.size() % kc::kLanes) block.push_back(0.0f);
    check_block(c, block.data(), block.size(), w);
    block.clear();
  };
  for (float s : special_values()) block.push_back(s);
  const std::uint64_t step = sweep_step();
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += step) {
    block.push_back(f_of(static_cast<std::uint32_t>(u)));
    if (block.size() == 4096) flush();
  }
  flush();
  return w;
}

void run_case(const Case& c) {
  const Worst w = sweep(c);
  std::printf("[ accuracy ] %-16s max %.3f ULP at x = %a (got %a); bound %.2f ULP", c.name, w.ulp,
              static_cast<double>(w.x), static_cast<double>(w.got), c.max_ulp);
  if (c.abs_tol > 0) {
    std::printf("; |ref| < %.2g: ULP bound or abs error <= %.2g (max abs error there %.3g)", c.abs_below,
                c.abs_tol, w.abs_err);
  }
  std::printf("\n");
  testing::Test::RecordProperty(std::string(c.name) + "_max_ulp", std::to_string(w.ulp));
  EXPECT_EQ(w.failures, 0u) << c.name << ": " << w.failures << " inputs beyond the bounds; worst "
                            << w.ulp << " ULP at x = " << w.x;
}

#define KC_VF(fn) [](kc::vf x) { return kc::fn(x); }

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus_ref(double x) { return x > 40 ? x : std::log1p(std::exp(x)); }
double silu_ref(double x) { return std::isinf(x) ? (x > 0 ? x : -0.0) : x * sigmoid_ref(x); }
double gelu_ref(double x) {
  return std::isinf(x) ? (x > 0 ? x : -0.0) : 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}
double gelu_tanh_ref(double x) {
  if (std::isinf(x)) return x > 0 ? x : -0.0;
  const double k = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
double mish_ref(double x) { return std::isinf(x) ? (x > 0 ? x : -0.0) : x * std::tanh(softplus_ref(x)); }
double elu_ref(double x) { return x > 0 ? x : std::expm1(x); }
double selu_ref(double x) {
  const double scale = static_cast<double>(1.05070098735548049342f);
  const double alpha = static_cast<double>(1.67326324235437728482f);
  return scale * (x > 0 ? x : alpha * std::expm1(x));
}
double softsign_ref(double x) { return std::isinf(x) ? std::copysign(1.0, x) : x / (1.0 + std::fabs(x)); }

// Measured over all 2^32 inputs (KC2CPP_EXHAUSTIVE=1); the asserted bound is the documented one.
TEST(RuntimeAccuracy, Exp) { run_case({"exp", KC_VF(exp), [](double x) { return std::exp(x); }, 1.0, 0, 0}); }
TEST(RuntimeAccuracy, Expm1) { run_case({"expm1", KC_VF(expm1), [](double x) { return std::expm1(x); }, 1.0, 0, 0}); }
TEST(RuntimeAccuracy, Log) { run_case({"log", KC_VF(log), [](double x) { return std::log(x); }, 1.0, 0, 0}); }
TEST(RuntimeAccuracy, Log1p) { run_case({"log1p", KC_VF(log1p), [](double x) { return std::log1p(x); }, 1.0, 0, 0}); }
TEST(RuntimeAccuracy, Tanh) { run_case({"tanh", KC_VF(tanh), [](double x) { return std::tanh(x); }, 1.5, 0, 0}); }
TEST(RuntimeAccuracy, Sigmoid) { run_case({"sigmoid", KC_VF(sigmoid), sigmoid_ref, 2.5, 0, 0}); }
TEST(RuntimeAccuracy, Erf) { run_case({"erf", KC_VF(erf), [](double x) { return std::erf(x); }, 1.5, 0, 0}); }

// Compositions: bounds against the exact (double) formula (measured with KC2CPP_SWEEP_STEP=13).
// Where float has no relative accuracy left, only an absolute bound is meaningful:
// - silu, mish for x < -87: the gate sigmoid(x) / tanh(softplus(x)) is subnormal, so results below
//   1e-35 are off by up to |x| * 2^-150 (< 1e-40);
// - gelu, gelu_tanh for x < 0 (|result| < 0.17): Keras's 1 + erf(..) / 1 + tanh(..) cancels
//   against -1, so the error is absolute (a few 1e-8 * |x|), not relative.
TEST(RuntimeAccuracy, Elu) {
  run_case({"elu", [](kc::vf x) { return kc::elu(x, 1.0f); }, elu_ref, 1.0, 0, 0});
}
TEST(RuntimeAccuracy, Selu) { run_case({"selu", KC_VF(selu), selu_ref, 2.5, 0, 0}); }
TEST(RuntimeAccuracy, Softplus) { run_case({"softplus", KC_VF(softplus), softplus_ref, 2.0, 0, 0}); }
TEST(RuntimeAccuracy, Softsign) { run_case({"softsign", KC_VF(softsign), softsign_ref, 2.0, 0, 0}); }
TEST(RuntimeAccuracy, Silu) { run_case({"silu", KC_VF(silu), silu_ref, 3.5, 1e-40, 1e-35}); }
TEST(RuntimeAccuracy, Mish) { run_case({"mish", KC_VF(mish), mish_ref, 5.0, 1e-40, 1e-35}); }
TEST(RuntimeAccuracy, Gelu) { run_case({"gelu", KC_VF(gelu), gelu_ref, 3.0, 1.5e-7, 0.2}); }
TEST(RuntimeAccuracy, GeluTanh) { run_case({"gelu_tanh", KC_VF(gelu_tanh), gelu_tanh_ref, 3.0, 3e-7, 0.2}); }


// The --fp fused math (Fused = true: the exponential core's product-sums are single-rounding fma),
// through the float path; bounds measured over all 2^32 inputs like the ones above (the
// compositions with KC2CPP_SWEEP_STEP=13).
#define KC_FUSED(fn) [](float x) { return kc::fn<true>(x); }
TEST(RuntimeAccuracyFused, Exp) {
  run_case({"exp@fused", nullptr, [](double x) { return std::exp(x); }, 1.0, 0, 0, KC_FUSED(exp)});
}
TEST(RuntimeAccuracyFused, Expm1) {
  run_case({"expm1@fused", nullptr, [](double x) { return std::expm1(x); }, 1.0, 0, 0, KC_FUSED(expm1)});
}
TEST(RuntimeAccuracyFused, Tanh) {
  run_case({"tanh@fused", nullptr, [](double x) { return std::tanh(x); }, 1.5, 0, 0, KC_FUSED(tanh)});
}
TEST(RuntimeAccuracyFused, Sigmoid) { run_case({"sigmoid@fused", nullptr, sigmoid_ref, 2.5, 0, 0, KC_FUSED(sigmoid)}); }
TEST(RuntimeAccuracyFused, Erf) {
  run_case({"erf@fused", nullptr, [](double x) { return std::erf(x); }, 1.5, 0, 0, KC_FUSED(erf)});
}
TEST(RuntimeAccuracyFused, Elu) {
  run_case({"elu@fused", nullptr, elu_ref, 1.0, 0, 0, [](float x) { return kc::elu<true>(x, 1.0f); }});
}
TEST(RuntimeAccuracyFused, Selu) { run_case({"selu@fused", nullptr, selu_ref, 2.5, 0, 0, KC_FUSED(selu)}); }
TEST(RuntimeAccuracyFused, Softplus) { run_case({"softplus@fused", nullptr, softplus_ref, 2.0, 0, 0, KC_FUSED(softplus)}); }
TEST(RuntimeAccuracyFused, Silu) { run_case({"silu@fused", nullptr, silu_ref, 3.5, 1e-40, 1e-35, KC_FUSED(silu)}); }
TEST(RuntimeAccuracyFused, Mish) { run_case({"mish@fused", nullptr, mish_ref, 5.0, 1e-40, 1e-35, KC_FUSED(mish)}); }
TEST(RuntimeAccuracyFused, Gelu) { run_case({"gelu@fused", nullptr, gelu_ref, 3.0, 1.5e-7, 0.2, KC_FUSED(gelu)}); }
TEST(RuntimeAccuracyFused, GeluTanh) {
  run_case({"gelu_tanh@fused", nullptr, gelu_tanh_ref, 3.0, 3e-7, 0.2, KC_FUSED(gelu_tanh)});
}
#undef KC_FUSED
#undef KC_VF

}  // namespace
}  // namespace kc_rt_test
