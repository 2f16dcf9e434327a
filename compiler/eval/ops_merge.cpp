// Evaluator: the merge family (ops reading several tensors), written independently of
// runtime_min/kc2cpp_kernels_merge.h from the order documented in compiler/ir/ops_merge.h.
#include <cmath>

#include "error.h"
#include "eval/ops.h"

namespace kc2cpp::eval {
namespace {

// For every element of `out` (row-major), the index of the element of `in` it reads under numpy
// broadcasting (shapes aligned at their last axis; an axis of extent 1 in `in` repeats).
std::vector<size_t> broadcast_index(const ir::Shape& out, const ir::Shape& in) {
  const size_t n = static_cast<size_t>(ir::num_elements(out)), lead = out.size() - in.size();
  std::vector<size_t> idx(n);
  for (size_t e = 0; e < n; ++e) {
    size_t rest = e, at = 0, stride = 1;
    for (size_t d = out.size(); d-- > lead;) {
      const size_t i = rest % static_cast<size_t>(out[d]);
      rest /= static_cast<size_t>(out[d]);
      const size_t extent = static_cast<size_t>(in[d - lead]);
      if (extent != 1) at += i * stride;
      stride *= extent;
    }
    idx[e] = at;
  }
  return idx;
}

float merge_op(ir::MergeKind k, float a, float b) {
  using K = ir::MergeKind;
  switch (k) {
    case K::Add: case K::Average: return a + b;
    case K::Subtract: return a - b;
    case K::Multiply: return a * b;
    case K::Divide: return a / b;
    case K::Maximum: return std::isnan(a) || std::isnan(b) ? std::nanf("") : (a > b ? a : b);
    case K::Minimum: return std::isnan(a) || std::isnan(b) ? std::nanf("") : (a < b ? a : b);
  }
  throw Error("internal: unknown merge");
}

}  // namespace

void run(const ir::MergeAttrs& a, const OpContext& c) {
  const ir::Shape out = c.out_shape();
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(ir::num_elements(out)), 0.0f);
  const std::vector<size_t> i0 = broadcast_index(out, c.in_shape(0));
  const std::vector<float>& x0 = c.x(0);
  for (size_t k = 1; k < c.in.size(); ++k) {
    const std::vector<size_t> ik = broadcast_index(out, c.in_shape(k));
    const std::vector<float>& xk = c.x(k);
    for (size_t e = 0; e < y.size(); ++e) y[e] = merge_op(a.kind, k == 1 ? x0[i0[e]] : y[e], xk[ik[e]]);
  }
  if (a.kind == ir::MergeKind::Average)
    for (float& v : y) v = v / static_cast<float>(c.in.size());
  for (float& v : y) v = apply(a.act, c.g.fp, v);
}

void run(const ir::ScalarOpAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  y.resize(x.size());
  for (size_t e = 0; e < x.size(); ++e) y[e] = a.c_first ? merge_op(a.kind, a.c, x[e]) : merge_op(a.kind, x[e], a.c);
}

void run(const ir::ConcatAttrs& a, const OpContext& c) {
  const ir::Shape out = c.out_shape();
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < a.axis; ++d) outer *= out[d];
  for (size_t d = static_cast<size_t>(a.axis) + 1; d < out.size(); ++d) inner *= out[d];
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(ir::num_elements(out)), 0.0f);
  int64_t at = 0;  // offset of this input's block within an output block
  for (size_t k = 0; k < c.in.size(); ++k) {
    const int64_t n = c.in_shape(k)[a.axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < n; ++i) y[o * out[a.axis] * inner + at + i] = c.x(k)[o * n + i];
    at += n;
  }
}

void run(const ir::MatMulAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x(0);
  const std::vector<float>& w = c.x(1);
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(a.batch * a.m * a.n), 0.0f);
  std::vector<float> wt(static_cast<size_t>(a.k * a.n));  // b as [k][n]: the layout reduce_columns reads
  for (int64_t b = 0; b < a.batch; ++b) {
    const float* wb = w.data() + b * a.n * a.k;
    for (int64_t j = 0; j < a.n; ++j)
      for (int64_t k = 0; k < a.k; ++k) wt[static_cast<size_t>(k * a.n + j)] = wb[j * a.k + k];
    const float* xb = x.data() + b * a.m * a.k;
    float* yb = y.data() + b * a.m * a.n;
    for (int64_t i = 0; i < a.m; ++i) reduce_columns(xb + i * a.k, a.k, wt.data(), a.n, a.n, a.splits, c.g.fp, yb + i * a.n);
  }
}

void run(const ir::L2NormalizeAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  y.assign(x.size(), 0.0f);
  const bool fused = c.g.fp == ir::FpMode::Fused;
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* xr = x.data() + r * a.n;
    float s = xr[0] * xr[0];
    for (int64_t i = 1; i < a.n; ++i) s = fused ? std::fma(xr[i], xr[i], s) : s + xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(s < a.floor ? a.floor : s);
    for (int64_t i = 0; i < a.n; ++i) y[r * a.n + i] = xr[i] * inv;
  }
}

}  // namespace kc2cpp::eval
