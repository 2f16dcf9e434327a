// Evaluator: core ops (Dense, elementwise activations, Softmax, PReLU, views).
#include <algorithm>
#include <cmath>

#include <xsimd/xsimd.hpp>

#include "error.h"
#include "eval/ops.h"
#include "eval/runtime.h"

namespace kc2cpp::eval {

namespace {

template <bool Fused>
float apply_mode(const ir::Activation& a, float x) {
  using K = ir::ActKind;
  switch (a.kind) {
    case K::Linear: return x;
    case K::Relu: return a.is_plain_relu() ? rt::relu_plain(x) : rt::relu(x, a.a, a.b, a.c);
    case K::Elu: return rt::elu<Fused>(x, a.a);
    case K::Selu: return rt::selu<Fused>(x);
    case K::Sigmoid: return rt::sigmoid<Fused>(x);
    case K::HardSigmoidK2: return rt::hard_sigmoid_k2(x);
    case K::HardSigmoidK3: return rt::hard_sigmoid_k3(x);
    case K::HardSilu: return rt::hard_silu(x);
    case K::Tanh: return rt::tanh<Fused>(x);
    case K::Softplus: return rt::softplus<Fused>(x);
    case K::Softsign: return rt::softsign(x);
    case K::Exponential: return rt::exponential<Fused>(x);
    case K::Silu: return rt::silu<Fused>(x);
    case K::GeluExact: return rt::gelu<Fused>(x);
    case K::GeluTanh: return rt::gelu_tanh<Fused>(x);
    case K::Mish: return rt::mish<Fused>(x);
  }
  throw Error("internal: unknown activation");
}

}  // namespace

float apply(const ir::Activation& a, ir::FpMode fp, float x) {
  return fp == ir::FpMode::Fused ? apply_mode<true>(a, x) : apply_mode<false>(a, x);
}

namespace {

// acc[j] = x * w[j] for j < n: a chain's first product.
void multiply(float x, const float* w, float* acc, size_t n) {
  using B = xsimd::batch<float>;
  const B xs(x);
  size_t j = 0;
  for (; j + B::size <= n; j += B::size) (xs * B::load_unaligned(w + j)).store_unaligned(acc + j);
  for (; j < n; ++j) acc[j] = rt::mul(x, w[j]);
}

// acc[lo] = the tree over accumulators [lo, hi): split at lo + the largest power of two below
// hi - lo, left + right (kc::reduce_tree).
void combine(std::vector<std::vector<float>>& acc, size_t lo, size_t hi) {
  if (hi - lo < 2) return;
  size_t half = 1;
  while (half * 2 < hi - lo) half *= 2;
  combine(acc, lo, lo + half);
  combine(acc, lo + half, hi);
  for (size_t j = 0; j < acc[lo].size(); ++j) acc[lo][j] = rt::add(acc[lo][j], acc[lo + half][j]);
}

}  // namespace

void accumulate(float x, const float* w, float* acc, size_t n, ir::FpMode fp) {
  if (fp == ir::FpMode::Fused) {
    for (size_t j = 0; j < n; ++j) acc[j] = std::fma(x, w[j], acc[j]);
    return;
  }
  using B = xsimd::batch<float>;
  const B xs(x);
  size_t j = 0;
  for (; j + B::size <= n; j += B::size) {
    const B p = xs * B::load_unaligned(w + j);
    (B::load_unaligned(acc + j) + p).store_unaligned(acc + j);
  }
  for (; j < n; ++j) acc[j] = rt::add(acc[j], rt::mul(x, w[j]));
}

void reduce_columns(const float* x, int64_t k, const float* w, int64_t ldw, int64_t n, int splits, ir::FpMode fp,
                    float* y, const float* init) {
  const size_t s = static_cast<size_t>(splits);
  std::vector<std::vector<float>> acc(s, std::vector<float>(static_cast<size_t>(n)));
  for (int64_t i = 0; i < k; ++i) {
    float* a = acc[static_cast<size_t>(i) % s].data();
    if (i == 0 && init) {
      if (fp != ir::FpMode::Fused) throw Error("internal: a Dense bias starts a chain only in --fp fused");
      std::copy(init, init + n, a);
      accumulate(x[i], w + i * ldw, a, static_cast<size_t>(n), fp);
    } else if (static_cast<size_t>(i) < s) {
      multiply(x[i], w + i * ldw, a, static_cast<size_t>(n));
    } else {
      accumulate(x[i], w + i * ldw, a, static_cast<size_t>(n), fp);
    }
  }
  combine(acc, 0, s);
  std::copy(acc[0].begin(), acc[0].end(), y);
}

void run(const ir::DenseAttrs& d, const OpContext& c) {
  const ir::Weight& k = c.g.weights[d.kernel];
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  const int64_t in = k.shape[0], units = d.units;
  const size_t rows = x.size() / static_cast<size_t>(in);
  y.assign(rows * static_cast<size_t>(units), 0.0f);
  const float* bias = d.bias >= 0 ? c.weight(d.bias).data() : nullptr;
  // --fp fused: the bias starts chain 0 (ir::DenseAttrs); else it is added to the total.
  const float* bias_first = c.g.fp == ir::FpMode::Fused ? bias : nullptr;
  const float* bias_last = bias_first ? nullptr : bias;
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y.data() + r * static_cast<size_t>(units);
    reduce_columns(x.data() + r * static_cast<size_t>(in), in, k.data.data(), units, units, d.splits, c.g.fp, yr,
                   bias_first);
    for (int64_t j = 0; j < units; ++j) {
      float s = yr[j];
      if (bias_last) s = rt::add(s, bias_last[j]);
      yr[j] = apply(d.act, c.g.fp, s);
    }
  }
}

void run(const ir::ActivationAttrs& a, const OpContext& c) {
  c.y().resize(c.x().size());
  for (size_t i = 0; i < c.x().size(); ++i) c.y()[i] = apply(a.act, c.g.fp, c.x()[i]);
}

void run(const ir::SoftmaxAttrs& a, const OpContext& c) {
  const ir::Shape& shape = c.in_shape();
  std::vector<float> x = c.x();
  if (a.causal_rows > 0) {  // rows of len scores, the last axis
    const size_t len = static_cast<size_t>(shape.back()), rows = static_cast<size_t>(a.causal_rows);
    for (size_t r = 0; r < x.size() / len; ++r)
      for (size_t j = r % rows + 1; j < len; ++j) x[r * len + j] = rt::add(x[r * len + j], ir::kCausalMaskAdd);
  }
  std::vector<float>& y = c.y();
  size_t outer = 1, inner = 1;
  for (int d = 0; d < a.axis; ++d) outer *= static_cast<size_t>(shape[d]);
  for (size_t d = static_cast<size_t>(a.axis) + 1; d < shape.size(); ++d) inner *= static_cast<size_t>(shape[d]);
  const size_t len = static_cast<size_t>(shape[a.axis]);
  y.assign(x.size(), 0.0f);
  std::vector<float> e(len);
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      auto at = [&](size_t j) { return o * len * inner + j * inner + i; };
      float m = x[at(0)];
      for (size_t j = 1; j < len; ++j) m = x[at(j)] > m ? x[at(j)] : m;
      float s = 0.0f;
      for (size_t j = 0; j < len; ++j) s = rt::add(s, e[j] = rt::exp(rt::sub(x[at(j)], m)));
      const float ls = a.log ? rt::log(s) : 0.0f;
      for (size_t j = 0; j < len; ++j) y[at(j)] = a.log ? rt::sub(rt::sub(x[at(j)], m), ls) : rt::div(e[j], s);
    }
}

void run(const ir::PReluAttrs& a, const OpContext& c) {
  const std::vector<float>& alpha = c.weight(a.alpha);
  c.y().resize(c.x().size());
  for (size_t i = 0; i < c.x().size(); ++i) c.y()[i] = c.x()[i] < 0.0f ? rt::mul(alpha[i], c.x()[i]) : c.x()[i];
}

void run(const ir::ReshapeAttrs&, const OpContext& c) { c.y() = c.x(); }
void run(const ir::IdentityAttrs&, const OpContext& c) { c.y() = c.x(); }

}  // namespace kc2cpp::eval
