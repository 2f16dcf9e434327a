// Exact behaviour of kc2cpp_simd.h / kc2cpp_math.h at special values, saturation points and the
// Keras activation definitions, checked through both the float and the vf overloads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "host_runtime.h"
#include "rt_inputs.h"

namespace kc_rt_test {
namespace {

namespace kc = kc_host::kc;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kMax = std::numeric_limits<float>::max();
constexpr float kDenormMin = std::numeric_limits<float>::denorm_min();

// Applies f through float and through vf (x in lane 0, other lanes fixed), requires both to agree
// bit for bit, and returns the result.
template <class F> float both(F f, float x) {
  const float s = f(x);
  float in[kc::kLanes], out[kc::kLanes];
  for (int i = 0; i < kc::kLanes; ++i) in[i] = i == 0 ? x : 0.25f * static_cast<float>(i);
  kc::vstore(out, f(kc::vload(in)));
  EXPECT_TRUE(same_bits(s, out[0])) << "float and vf paths differ at x = " << x;
  return s;
}

::testing::AssertionResult bits_eq(float got, float want) {
  if (same_bits(got, want)) return ::testing::AssertionSuccess();
  char buf[128];
  std::snprintf(buf, sizeof buf, "got %a (0x%08x), want %a (0x%08x)", static_cast<double>(got),
                static_cast<unsigned>(u_of(got)), static_cast<double>(want), static_cast<unsigned>(u_of(want)));
  return ::testing::AssertionFailure() << buf;
}

#define EXPECT_BITS(fn, x, want) EXPECT_TRUE(bits_eq(both([](auto v) { return kc::fn; }, x), want)) << #fn " at " << (x)

TEST(RuntimeSemantics, Exp) {
  EXPECT_BITS(exp(v), 0.0f, 1.0f);
  EXPECT_BITS(exp(v), -0.0f, 1.0f);
  EXPECT_BITS(exp(v), 1.0f, 0x1.5bf0a8p+1f);  // e, correctly rounded
  EXPECT_BITS(exp(v), kInf, kInf);
  EXPECT_BITS(exp(v), -kInf, 0.0f);
  EXPECT_BITS(exp(v), 89.0f, kInf);
  EXPECT_BITS(exp(v), 88.72284f, kInf);
  EXPECT_TRUE(std::isfinite(both([](auto v) { return kc::exp(v); }, 88.72283f)));
  EXPECT_BITS(exp(v), -200.0f, 0.0f);
  EXPECT_BITS(exp(v), -104.0f, 0.0f);
  EXPECT_BITS(exp(v), -103.97208f, kDenormMin);  // e^-103.97208 ~ 0.5000002 * 2^-149
  EXPECT_BITS(exp(v), kNaN, kNaN);
}

TEST(RuntimeSemantics, Expm1) {
  EXPECT_BITS(expm1(v), -0.0f, -0.0f);
  EXPECT_BITS(expm1(v), 0.0f, 0.0f);
  EXPECT_BITS(expm1(v), kDenormMin, kDenormMin);
  EXPECT_BITS(expm1(v), -kDenormMin, -kDenormMin);
  EXPECT_BITS(expm1(v), 1e-30f, 1e-30f);
  EXPECT_BITS(expm1(v), -20.0f, -1.0f);
  EXPECT_BITS(expm1(v), -kInf, -1.0f);
  EXPECT_BITS(expm1(v), kInf, kInf);
  EXPECT_BITS(expm1(v), 89.0f, kInf);
  EXPECT_BITS(expm1(v), kNaN, kNaN);
}

// elu computes expm1 by its x <= 0 regions only (detail::expm1_nonpositive) and promises the same
// bits as expm1 there: every 997th bit pattern from -0 to -Inf, both --fp modes.
TEST(RuntimeSemantics, EluIsExpm1OnNonPositiveInputs) {
  auto check = [](float x) {
    EXPECT_TRUE(bits_eq(both([](auto v) { return kc::elu<false>(v, 1.0f); }, x), both([](auto v) { return kc::expm1<false>(v); }, x))) << x;
    // --fp fused through float only (the host's vf has no fma; the variants check fused vf against it)
    EXPECT_TRUE(bits_eq(kc::elu<true>(x, 1.0f), kc::expm1<true>(x))) << x;
  };
  int checked = 0;
  for (std::uint32_t u = 0x80000000u; u < 0xff800000u && !HasFailure(); u += 997, ++checked) check(f_of(u));
  check(-kInf);
  EXPECT_GT(checked, 2000000);
}

TEST(RuntimeSemantics, Log) {
  EXPECT_BITS(log(v), 1.0f, 0.0f);
  EXPECT_BITS(log(v), 0.0f, -kInf);
  EXPECT_BITS(log(v), -0.0f, -kInf);
  EXPECT_BITS(log(v), -1.0f, kNaN);
  EXPECT_BITS(log(v), -kInf, kNaN);
  EXPECT_BITS(log(v), kInf, kInf);
  EXPECT_BITS(log(v), kNaN, kNaN);
  EXPECT_BITS(log(v), kDenormMin, -0x1.9d1da0p+6f);  // -103.27893, correctly rounded
  EXPECT_BITS(log(v), kMax, 0x1.62e430p+6f);         // 88.72284
}

TEST(RuntimeSemantics, Log1p) {
  EXPECT_BITS(log1p(v), -0.0f, -0.0f);
  EXPECT_BITS(log1p(v), 0.0f, 0.0f);
  EXPECT_BITS(log1p(v), -kDenormMin, -kDenormMin);
  EXPECT_BITS(log1p(v), -1.0f, -kInf);
  EXPECT_BITS(log1p(v), -2.0f, kNaN);
  EXPECT_BITS(log1p(v), -kInf, kNaN);
  EXPECT_BITS(log1p(v), kInf, kInf);
  EXPECT_BITS(log1p(v), kNaN, kNaN);
  EXPECT_BITS(log1p(v), kMax, 0x1.62e430p+6f);
}

TEST(RuntimeSemantics, TanhSigmoidErfSaturate) {
  EXPECT_BITS(tanh(v), 20.0f, 1.0f);
  EXPECT_BITS(tanh(v), -20.0f, -1.0f);
  EXPECT_BITS(tanh(v), kInf, 1.0f);
  EXPECT_BITS(tanh(v), -kInf, -1.0f);
  EXPECT_BITS(tanh(v), -0.0f, -0.0f);
  EXPECT_BITS(tanh(v), kDenormMin, kDenormMin);
  EXPECT_BITS(tanh(v), kNaN, kNaN);
  EXPECT_BITS(sigmoid(v), 0.0f, 0.5f);
  EXPECT_BITS(sigmoid(v), -0.0f, 0.5f);
  EXPECT_BITS(sigmoid(v), kInf, 1.0f);
  EXPECT_BITS(sigmoid(v), 20.0f, 1.0f);  // 1 - 2.1e-9 rounds to 1
  EXPECT_BITS(sigmoid(v), 100.0f, 1.0f);
  EXPECT_BITS(sigmoid(v), -kInf, 0.0f);
  EXPECT_BITS(sigmoid(v), -200.0f, 0.0f);
  EXPECT_BITS(sigmoid(v), kNaN, kNaN);
  const float s100 = both([](auto v) { return kc::sigmoid(v); }, -100.0f);  // e^-100 = 3.7e-44
  EXPECT_NEAR(static_cast<double>(s100), std::exp(-100.0), 2.0 * kDenormMin);
  EXPECT_GT(s100, 0.0f);
  EXPECT_BITS(erf(v), kInf, 1.0f);
  EXPECT_BITS(erf(v), -kInf, -1.0f);
  EXPECT_BITS(erf(v), 4.0f, 1.0f);
  EXPECT_BITS(erf(v), -4.0f, -1.0f);
  EXPECT_BITS(erf(v), 10.0f, 1.0f);
  EXPECT_BITS(erf(v), -0.0f, -0.0f);
  EXPECT_BITS(erf(v), kNaN, kNaN);
}

// Keras's documented examples, bit for bit (including the -0 of x * 0 in the threshold case).
TEST(RuntimeSemantics, ReluKerasExamples) {
  struct Config { float slope, max, threshold; std::vector<float> want; };
  const std::vector<float> x = {-10.0f, -5.0f, 0.0f, 5.0f, 10.0f};
  const Config configs[] = {
      {0.0f, kInf, 0.0f, {0.0f, 0.0f, 0.0f, 5.0f, 10.0f}},
      {0.5f, kInf, 0.0f, {-5.0f, -2.5f, 0.0f, 5.0f, 10.0f}},
      {0.0f, 5.0f, 0.0f, {0.0f, 0.0f, 0.0f, 5.0f, 5.0f}},
      {0.0f, kInf, 5.0f, {-0.0f, -0.0f, 0.0f, 0.0f, 10.0f}},
      {0.5f, 10.0f, 0.0f, {-5.0f, -2.5f, 0.0f, 5.0f, 10.0f}},
      {0.0f, 6.0f, 0.0f, {0.0f, 0.0f, 0.0f, 5.0f, 6.0f}},
      {1.0f, kInf, 0.0f, {-10.0f, -5.0f, 0.0f, 5.0f, 10.0f}},
  };
  for (const Config& c : configs) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float got = both([&](auto v) { return kc::relu(v, c.slope, c.max, c.threshold); }, x[i]);
      EXPECT_TRUE(bits_eq(got, c.want[i])) << "relu(" << x[i] << ", slope " << c.slope << ", max "
                                          << c.max << ", threshold " << c.threshold << ")";
    }
  }
  // tf.keras ReLU layer docs: threshold=1.5 on [-3, -1, 1, 2] gives [0, 0, 0, 2] (zeros signed).
  EXPECT_BITS(relu(v, 0.0f, kInf, 1.5f), 1.0f, 0.0f);
  EXPECT_BITS(relu(v, 0.0f, kInf, 1.5f), 1.5f, 0.0f);
  EXPECT_BITS(relu(v, 0.0f, kInf, 1.5f), 2.0f, 2.0f);
}

// The general op order: neg = relu(threshold - x); x = x > t ? x : 0; clip; x -= slope * neg.
TEST(RuntimeSemantics, ReluGeneralOrder) {
  for (float x : {-7.0f, -1.0f, -0.25f, 0.0f, 0.3f, 0.5f, 0.75f, 3.0f, 5.9f, 6.5f, 100.0f}) {
    const float neg_part = std::max(0.5f - x, 0.0f);
    float y = x > 0.5f ? x : 0.0f * x;
    y = std::min(std::max(y, 0.0f), 6.0f);
    volatile float prod = 0.2f * neg_part;
    y = y - prod;
    EXPECT_BITS(relu(v, 0.2f, 6.0f, 0.5f), x, y);
  }
  EXPECT_BITS(relu(v, 0.1f, kInf, 0.0f), -3.0f, 0.1f * -3.0f);
  EXPECT_BITS(relu(v, 0.1f, kInf, 0.0f), -0.0f, -0.0f);
  EXPECT_BITS(relu(v, 0.0f, kInf, 0.0f), -0.0f, -0.0f);
  EXPECT_BITS(relu_plain(v), -0.0f, -0.0f);
  EXPECT_BITS(relu_plain(v), -kInf, 0.0f);
  EXPECT_BITS(relu(v, 0.0f, kInf, 1.5f), -kInf, -0.0f);  // Keras: -Inf * 0 = NaN; the limit is 0
  EXPECT_BITS(relu(v, 0.0f, 6.0f, 0.0f), kInf, 6.0f);
  EXPECT_BITS(relu(v, 0.3f, 6.0f, 0.0f), kInf, 6.0f);
  EXPECT_BITS(relu(v, 0.3f, kInf, 0.0f), -kInf, -kInf);
}

TEST(RuntimeSemantics, OtherActivations) {
  EXPECT_BITS(elu(v, 1.0f), -kInf, -1.0f);
  EXPECT_BITS(elu(v, 0.5f), -kInf, -0.5f);
  EXPECT_BITS(elu(v, 1.0f), -0.0f, -0.0f);
  EXPECT_BITS(elu(v, 1.0f), 2.0f, 2.0f);
  EXPECT_BITS(selu(v), 1.0f, 1.05070098735548049342f);
  const float selu_floor = 1.05070098735548049342f * (1.67326324235437728482f * -1.0f);
  EXPECT_BITS(selu(v), -kInf, selu_floor);
  EXPECT_BITS(hard_sigmoid_k2(v), -3.0f, 0.0f);
  EXPECT_BITS(hard_sigmoid_k2(v), 0.0f, 0.5f);
  EXPECT_BITS(hard_sigmoid_k2(v), 2.5f, 1.0f);
  EXPECT_BITS(hard_sigmoid_k2(v), -kInf, 0.0f);
  EXPECT_BITS(hard_sigmoid_k3(v), -3.0f, 0.0f);
  EXPECT_BITS(hard_sigmoid_k3(v), 3.0f, 1.0f);
  EXPECT_BITS(hard_sigmoid_k3(v), 0.0f, 0.5f);
  EXPECT_BITS(hard_sigmoid_k3(v), 1.0f, 4.0f / 6.0f);
  EXPECT_BITS(hard_silu(v), 1.0f, 1.0f * (4.0f / 6.0f));
  EXPECT_BITS(hard_silu(v), -kInf, -0.0f);
  EXPECT_BITS(hard_silu(v), kInf, kInf);
  EXPECT_BITS(softplus(v), -kInf, 0.0f);
  EXPECT_BITS(softplus(v), kInf, kInf);
  EXPECT_BITS(softplus(v), 100.0f, 100.0f);
  EXPECT_BITS(softplus(v), 0.0f, 0x1.62e430p-1f);  // log 2
  EXPECT_BITS(softsign(v), kInf, 1.0f);
  EXPECT_BITS(softsign(v), -kInf, -1.0f);
  EXPECT_BITS(softsign(v), 1.0f, 0.5f);
  EXPECT_BITS(softsign(v), -0.0f, -0.0f);
  EXPECT_BITS(exponential(v), 0.0f, 1.0f);
  for (const char* name : {"silu", "gelu", "gelu_tanh", "mish"}) {
    SCOPED_TRACE(name);
    auto f = [&](auto v) {
      const std::string n = name;
      return n == "silu" ? kc::silu(v) : n == "gelu" ? kc::gelu(v) : n == "gelu_tanh" ? kc::gelu_tanh(v) : kc::mish(v);
    };
    EXPECT_TRUE(bits_eq(both(f, -kInf), -0.0f));
    EXPECT_TRUE(bits_eq(both(f, kInf), kInf));
    EXPECT_TRUE(bits_eq(both(f, 0.0f), 0.0f));
    EXPECT_TRUE(bits_eq(both(f, -200.0f), -0.0f));
    EXPECT_TRUE(bits_eq(both(f, 200.0f), 200.0f));
  }
}

// NaN in gives NaN out, for every function and activation.
TEST(RuntimeSemantics, NaNPropagates) {
  for (std::uint32_t pattern : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fffffffu}) {
    const float nan = f_of(pattern);
    const float outs[] = {
        both([](auto v) { return kc::exp(v); }, nan), both([](auto v) { return kc::expm1(v); }, nan),
        both([](auto v) { return kc::log(v); }, nan), both([](auto v) { return kc::log1p(v); }, nan),
        both([](auto v) { return kc::tanh(v); }, nan), both([](auto v) { return kc::sigmoid(v); }, nan),
        both([](auto v) { return kc::erf(v); }, nan), both([](auto v) { return kc::relu_plain(v); }, nan),
        both([](auto v) { return kc::relu(v, 0.1f, kInf, 0.0f); }, nan),
        both([](auto v) { return kc::relu(v, 0.0f, 6.0f, 0.0f); }, nan),
        both([](auto v) { return kc::relu(v, 0.2f, 6.0f, 0.5f); }, nan),
        both([](auto v) { return kc::relu(v, 0.0f, kInf, 1.5f); }, nan),
        both([](auto v) { return kc::elu(v, 1.0f); }, nan), both([](auto v) { return kc::selu(v); }, nan),
        both([](auto v) { return kc::hard_sigmoid_k2(v); }, nan),
        both([](auto v) { return kc::hard_sigmoid_k3(v); }, nan),
        both([](auto v) { return kc::hard_silu(v); }, nan), both([](auto v) { return kc::softplus(v); }, nan),
        both([](auto v) { return kc::softsign(v); }, nan), both([](auto v) { return kc::exponential(v); }, nan),
        both([](auto v) { return kc::silu(v); }, nan), both([](auto v) { return kc::gelu(v); }, nan),
        both([](auto v) { return kc::gelu_tanh(v); }, nan), both([](auto v) { return kc::mish(v); }, nan),
    };
    for (std::size_t i = 0; i < sizeof outs / sizeof outs[0]; ++i) {
      EXPECT_TRUE(std::isnan(outs[i])) << "function #" << i << " with NaN 0x" << std::hex << pattern;
    }
  }
}

TEST(RuntimeSemantics, MinMaxKeepNaNAndSignedZero) {
  EXPECT_TRUE(bits_eq(kc::max_(0.0f, -0.0f), -0.0f));
  EXPECT_TRUE(bits_eq(kc::min_(-0.0f, 0.0f), 0.0f));
  EXPECT_TRUE(std::isnan(kc::max_(0.0f, kNaN)));
  EXPECT_TRUE(bits_eq(kc::max_(kNaN, 1.0f), 1.0f));
  float in[kc::kLanes], out[kc::kLanes];
  for (int i = 0; i < kc::kLanes; ++i) in[i] = i % 2 ? kNaN : -0.0f;
  kc::vstore(out, kc::max_(kc::vzero(), kc::vload(in)));
  for (int i = 0; i < kc::kLanes; ++i) EXPECT_TRUE(bits_eq(out[i], in[i]));
}

TEST(RuntimeSemantics, PartialLoadStore) {
  float src[kc::kLanes], dst[kc::kLanes + 1];
  for (int i = 0; i < kc::kLanes; ++i) src[i] = static_cast<float>(i + 1);
  for (int n = 0; n <= kc::kLanes; ++n) {
    float lanes[kc::kLanes];
    kc::vstore(lanes, kc::vload_n(src, n));
    for (int i = 0; i < kc::kLanes; ++i) EXPECT_EQ(lanes[i], i < n ? src[i] : 0.0f) << n;
    for (float& d : dst) d = -1.0f;
    kc::vstore_n(dst, kc::vload(src), n);
    for (int i = 0; i <= kc::kLanes; ++i) EXPECT_EQ(dst[i], i < n ? src[i] : -1.0f) << n;
  }
}

// sqrt is the correctly rounded IEEE square root on every path, and the integer-only fallback
// sqrt_soft (used where no instruction is known) gives the same bits.
TEST(RuntimeSemantics, SqrtIsCorrectlyRounded) {
  std::vector<float> xs = special_values();
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 251) xs.push_back(f_of(static_cast<std::uint32_t>(u)));
  std::size_t bad = 0;
  for (float x : xs) {
    const float want = std::sqrt(x);
    const float hw = both([](auto v) { return kc::sqrt(v); }, x);
    const float soft = kc::sqrt_soft(x);
    if (!same_bits(hw, want) || !same_bits(soft, want)) {
      if (++bad <= 5) ADD_FAILURE() << "sqrt(" << x << "): std " << want << ", kc " << hw << ", soft " << soft;
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(bits_eq(kc::sqrt_soft(-0.0f), -0.0f));
  EXPECT_TRUE(bits_eq(kc::sqrt(-0.0f), -0.0f));
}

TEST(RuntimeSemantics, IsaName) {
  const std::string isa = kc::isa_name();
  EXPECT_TRUE(isa == "avx512" || isa == "avx2" || isa == "sse2" || isa == "neon" || isa == "scalar");
  EXPECT_EQ(kc::kLanes, isa == "avx512" ? 16 : isa == "avx2" ? 8 : isa == "scalar" ? 1 : 4);
  std::printf("[ runtime  ] host test binary path: %s, %d lanes\n", isa.c_str(), kc::kLanes);
}

#undef EXPECT_BITS

}  // namespace
}  // namespace kc_rt_test
