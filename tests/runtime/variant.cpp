// One runtime variant: every kc2cpp_simd.h / kc2cpp_math.h operation over arrays, through vf and
// through float. Compiled many times (compiler x ISA x -O level) with
//   -DKC_VARIANT=<name>      namespace and getter suffix (kc_variant_<name>)
//   -DKC_MARCH_LEVEL=<0..4>  x86-64 level the flags target (0: none / other architecture)
// -DKC_NO_FMA_OP leaves out the deliberate fma op and the --fp fused math (for the no-contraction
// assembly check).
// Everything here lives in namespace KC_VARIANT, so the inline functions of different variants
// never merge at link time. Uses no standard library (see variant_api.h).
#include "kc2cpp_isa.h"
#include "fused_ops.h"
#include "variant_api.h"

namespace KC_VARIANT {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
#include "kc2cpp_kernels.h"
}  // namespace kc

namespace {

template <class F>
void run_vec(F f, const float* a, const float* b, const float* c, float* out, size_t n) {
  for (size_t i = 0; i < n; i += static_cast<size_t>(kc::kLanes)) {
    kc::vstore(out + i, f(kc::vload(a + i), kc::vload(b + i), kc::vload(c + i)));
  }
}

template <class F>
void run_scalar(F f, const float* a, const float* b, const float* c, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i], c[i]);
}

// Softmax over rows of L: a's first n / L rows (the rest of out is 0). vf: kc::softmax's contiguous-
// row path; float: its definition, one row at a time (m = a_0, then a_j > m; e_j = exp(a_j - m);
// s = e_0 + e_1 + ... in index order; e_j / s).
template <int L> void softmax_rows_vec(const float* a, const float*, const float*, float* out, size_t n) {
  const int rows = static_cast<int>(n / L);
  kc::softmax(a, out, rows, L, 1, false);
  for (size_t i = static_cast<size_t>(rows) * L; i < n; ++i) out[i] = 0.0f;
}
template <int L> void softmax_rows_scalar(const float* a, const float*, const float*, float* out, size_t n) {
  size_t i = 0;
  for (; i + L <= n; i += L) {
    float m = a[i];
    for (int j = 1; j < L; ++j) m = a[i + j] > m ? a[i + j] : m;
    float s = 0.0f;
    for (int j = 0; j < L; ++j) s = kc::add(s, out[i + j] = kc::exp(kc::sub(a[i + j], m)));
    for (int j = 0; j < L; ++j) out[i + j] = kc::div(out[i + j], s);
  }
  for (; i < n; ++i) out[i] = 0.0f;
}

// Dense over rows: 7 rows of K = 40 times a 40 x 70 kernel plus bias, S = 4 chains, unfused (x, w
// and b from the index, in [-0.5, 0.5); the rest of out is 0). vf: kc::dense, whose row blocks
// (row_block: on AVX-512 2 rows x 3 vectors then a block of 2, right to left; on NEON 3 rows x 2)
// share each weight load; float: each output's sum as DenseAttrs defines it, chain s = products
// s, s + 4, ... in order, then (c0 + c1) + (c2 + c3), then + bias.
constexpr int kDenseRows = 7, kDenseK = 40, kDenseN = 70;
inline float dense_value(unsigned i) {  // through kc's ops: no contraction in this object (check_no_fma.cmake)
  return kc::sub(kc::mul(static_cast<float>((i * 2654435761u) >> 8), 0x1p-24f), 0.5f);
}
inline float dense_x(int r, int i) { return dense_value(static_cast<unsigned>(r * kDenseK + i)); }
inline float dense_w(int i, int j) { return dense_value(static_cast<unsigned>(1000 + i * kDenseN + j)); }
inline float dense_b(int j) { return dense_value(static_cast<unsigned>(5000 + j)); }
void dense_rows_vec(const float*, const float*, const float*, float* out, size_t n) {
  constexpr int ldw = kc::row_floats(kDenseN);
  alignas(64) static float x[kDenseRows * kDenseK], w[kDenseK * ldw + kc::kWSlack], b[ldw + kc::kWSlack];
  alignas(64) static float y[kDenseRows * kDenseN + 64];
  for (int r = 0; r < kDenseRows; ++r)
    for (int i = 0; i < kDenseK; ++i) x[r * kDenseK + i] = dense_x(r, i);
  for (int i = 0; i < kDenseK; ++i)
    for (int j = 0; j < ldw; ++j) w[i * ldw + j] = j < kDenseN ? dense_w(i, j) : 0.0f;
  for (int j = 0; j < ldw; ++j) b[j] = j < kDenseN ? dense_b(j) : 0.0f;
  kc::dense<kDenseK, kDenseN, 4, kDenseRows, true, false>(x, w, b, y, kc::act::Linear{});
  for (size_t i = 0; i < n; ++i) out[i] = i < static_cast<size_t>(kDenseRows * kDenseN) ? y[i] : 0.0f;
}
void dense_rows_scalar(const float*, const float*, const float*, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = 0.0f;
  for (int r = 0; r < kDenseRows; ++r)
    for (int j = 0; j < kDenseN; ++j) {
      float c[4];
      for (int s = 0; s < 4; ++s) {
        c[s] = kc::mul(dense_x(r, s), dense_w(s, j));
        for (int i = s + 4; i < kDenseK; i += 4) c[s] = kc::add(c[s], kc::mul(dense_x(r, i), dense_w(i, j)));
      }
      out[r * kDenseN + j] = kc::add(kc::add(kc::add(c[0], c[1]), kc::add(c[2], c[3])), dense_b(j));
    }
}

template <class V> V k(float v) { return kc::splat_v<V>(v); }
template <class V, class M> V as01(M m) { return kc::select(m, k<V>(1.0f), k<V>(0.0f)); }

// OP(name, expression in x, y, z of type V): one table row with a vf and a float entry.
#define KC_FN(runner, expr)                                                                  \
  [](const float* a, const float* b, const float* c, float* out, size_t n) {                 \
    runner([](auto x, auto y, auto z) {                                                      \
      using V = decltype(x);                                                                 \
      (void)y;                                                                               \
      (void)z;                                                                               \
      return static_cast<V>(expr);                                                           \
    }, a, b, c, out, n);                                                                     \
  }
#define OP(name, expr) {name, KC_FN(run_vec, expr), KC_FN(run_scalar, expr)},

constexpr float kInf = __builtin_inff();

const KcOp kOps[] = {
    // kc2cpp_simd.h
    OP("add", kc::add(x, y))
    OP("sub", kc::sub(x, y))
    OP("mul", kc::mul(x, y))
    OP("div", kc::div(x, y))
    OP("muladd", kc::add(kc::mul(x, y), z))
    OP("mulsub", kc::sub(z, kc::mul(x, y)))
#if defined(KC2CPP_HAS_FMA) && !defined(KC_NO_FMA_OP)
    OP("fma", kc::fma(x, y, z))
#endif
    OP("sqrt", kc::sqrt(x))
    OP("neg", kc::neg(x))
    OP("abs", kc::abs(x))
    OP("copysign", kc::copysign_(x, y))
    OP("min", kc::min_(x, y))
    OP("max", kc::max_(x, y))
    OP("lt", as01<V>(kc::lt(x, y)))
    OP("le", as01<V>(kc::le(x, y)))
    OP("gt", as01<V>(kc::gt(x, y)))
    OP("ge", as01<V>(kc::ge(x, y)))
    OP("eq", as01<V>(kc::eq(x, y)))
    OP("select", kc::select(kc::lt(x, y), y, z))
    OP("mand", kc::select(kc::mand(kc::lt(x, y), kc::gt(y, z)), x, z))
    OP("mor", kc::select(kc::mor(kc::lt(x, y), kc::gt(y, z)), x, z))
    OP("mnot", kc::select(kc::mnot(kc::le(x, y)), x, y))
    OP("lookup32", kc::lookup32(kc::detail::kExp2Hi, kc::band(kc::bits(x), kc::splat_bits<V>(31u))))
    // kc2cpp_math.h
    OP("exp", kc::exp(x))
    OP("expm1", kc::expm1(x))
    OP("log", kc::log(x))
    OP("log1p", kc::log1p(x))
    OP("tanh", kc::tanh(x))
    OP("sigmoid", kc::sigmoid(x))
    OP("erf", kc::erf(x))
    OP("relu_plain", kc::relu_plain(x))
    OP("relu", kc::relu(x, 0.0f, kInf, 0.0f))
    OP("relu_leaky", kc::relu(x, 0.1f, kInf, 0.0f))
    OP("relu6", kc::relu(x, 0.0f, 6.0f, 0.0f))
    OP("relu_max", kc::relu(x, 0.0f, 3.5f, 0.0f))
    OP("relu_slope_max", kc::relu(x, 0.2f, 6.0f, 0.0f))
    OP("relu_slope_max6_thr", kc::relu(x, 0.2f, 6.0f, 0.5f))
    OP("relu_slope_thr", kc::relu(x, 0.3f, kInf, 0.5f))
    OP("relu_thr", kc::relu(x, 0.0f, kInf, 1.5f))
    OP("relu_thr_max", kc::relu(x, 0.0f, 2.0f, 1.5f))
    OP("relu_negthr_slope_max", kc::relu(x, 0.25f, 4.0f, -1.0f))
    OP("elu", kc::elu(x, 1.0f))
    OP("elu_half", kc::elu(x, 0.5f))
    OP("selu", kc::selu(x))
    OP("hard_sigmoid_k2", kc::hard_sigmoid_k2(x))
    OP("hard_sigmoid_k3", kc::hard_sigmoid_k3(x))
    OP("hard_silu", kc::hard_silu(x))
    OP("softplus", kc::softplus(x))
    OP("softsign", kc::softsign(x))
    OP("exponential", kc::exponential(x))
    OP("silu", kc::silu(x))
    OP("gelu", kc::gelu(x))
    OP("gelu_tanh", kc::gelu_tanh(x))
    OP("mish", kc::mish(x))
    // kc2cpp_kernels.h
    {"softmax_rows_1", softmax_rows_vec<1>, softmax_rows_scalar<1>},
    {"softmax_rows_5", softmax_rows_vec<5>, softmax_rows_scalar<5>},
    {"softmax_rows_16", softmax_rows_vec<16>, softmax_rows_scalar<16>},
    {"softmax_rows_37", softmax_rows_vec<37>, softmax_rows_scalar<37>},
    {"dense_rows", dense_rows_vec, dense_rows_scalar},
#if defined(KC2CPP_HAS_FMA) && !defined(KC_NO_FMA_OP)
    // the --fp fused math
#define KC_FUSED_OP(name, expr) OP(name, expr)
    KC_FUSED_MATH_OPS(KC_FUSED_OP)
#undef KC_FUSED_OP
#endif
};

#undef OP
#undef KC_FN

void load_n(const float* p, int n, float* out) { kc::vstore(out, kc::vload_n(p, n)); }

}  // namespace
}  // namespace KC_VARIANT

#define KC_STR2(x) #x
#define KC_STR(x) KC_STR2(x)
#define KC_CAT2(a, b) a##b
#define KC_CAT(a, b) KC_CAT2(a, b)

extern "C" const KcVariant* KC_CAT(kc_variant_, KC_VARIANT)() {
  static const KcVariant v = {KC_STR(KC_VARIANT),
                              KC_VARIANT::kc::isa_name(),
                              KC_VARIANT::kc::kLanes,
                              KC_MARCH_LEVEL,
#if defined(KC2CPP_HAS_FMA)
                              1,
#else
                              0,
#endif
                              sizeof(KC_VARIANT::kOps) / sizeof(KC_VARIANT::kOps[0]),
                              KC_VARIANT::kOps,
                              KC_VARIANT::load_n};
  return &v;
}
