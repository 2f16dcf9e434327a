// Evaluator: embedding, normalization and shape ops, in the operation order documented in
// compiler/ir/ops_shape.h (the same as runtime_min/kc2cpp_kernels_shape.h). Scalar code: these ops
// are a small share of any model's arithmetic.
#include <algorithm>
#include <cmath>

#include "error.h"
#include "eval/ops.h"
#include "eval/runtime.h"

namespace kc2cpp::eval {
namespace {

// c + a * b: product rounded, then the sum; or one rounding (FpMode::Fused).
float madd(float a, float b, float c, ir::FpMode fp) {
  return fp == ir::FpMode::Fused ? std::fma(a, b, c) : rt::add(c, rt::mul(a, b));
}

// The 16 virtual accumulators and their fixed tree (ir/ops_shape.h).
constexpr int kSumLanes = 16;
float tree16(float (&s)[kSumLanes]) {
  for (int h = kSumLanes / 2; h >= 1; h /= 2)
    for (int k = 0; k < h; ++k) s[k] = rt::add(s[k], s[k + h]);
  return s[0];
}

size_t at(const std::vector<int64_t>& v, size_t k) { return static_cast<size_t>(v.at(k)); }

}  // namespace

void run(const ir::EmbeddingAttrs& a, const OpContext& c) {
  const std::vector<float>& idx = c.x();
  const std::vector<float>& table = c.weight(a.table);
  const size_t dim = static_cast<size_t>(a.output_dim);
  std::vector<float>& y = c.y();
  y.assign(idx.size() * dim, 0.0f);
  // Float buffers hold integer inputs exactly (|i| <= 2^24): the float rule covers both dtypes.
  const float n = static_cast<float>(a.input_dim);
  for (size_t p = 0; p < idx.size(); ++p) {
    if (!(idx[p] > -1.0f && idx[p] < n)) continue;
    const size_t row = static_cast<size_t>(idx[p]);
    std::copy_n(table.begin() + static_cast<std::ptrdiff_t>(row * dim), dim, y.begin() + static_cast<std::ptrdiff_t>(p * dim));
  }
}

void run(const ir::BatchNormAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  const std::vector<float>& scale = c.weight(a.scale);
  const std::vector<float>& shift = c.weight(a.shift);
  std::vector<float>& y = c.y();
  y.resize(x.size());
  const size_t channels = static_cast<size_t>(a.channels), inner = static_cast<size_t>(a.inner);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t ch = i / inner % channels;
    y[i] = madd(x[i], scale[ch], shift[ch], c.g.fp);
  }
}

void run(const ir::LayerNormAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  y.resize(x.size());
  const ir::FpMode fp = c.g.fp;
  const bool centered = a.form == ir::LayerNormForm::Centered;
  const size_t n = static_cast<size_t>(a.n), inner = static_cast<size_t>(a.inner);
  const float fn = static_cast<float>(a.n), rcp_n = rt::div(1.0f, fn);
  const float* gamma = a.gamma >= 0 ? c.weight(a.gamma).data() : nullptr;
  const float* beta = a.beta >= 0 ? c.weight(a.beta).data() : nullptr;
  for (size_t o = 0; o < static_cast<size_t>(a.outer); ++o) {
    for (size_t col = 0; col < inner; ++col) {
      auto xj = [&](size_t j) { return x[(o * n + j) * inner + col]; };
      float s[kSumLanes] = {};
      for (size_t j = 0; j < n; ++j) s[j % kSumLanes] = rt::add(s[j % kSumLanes], xj(j));
      const float sum = tree16(s);
      const float mean = centered ? rt::mul(sum, rcp_n) : rt::div(sum, fn);
      float q[kSumLanes] = {};
      for (size_t j = 0; j < n; ++j) {
        const float d = rt::sub(xj(j), mean);
        q[j % kSumLanes] = madd(d, d, q[j % kSumLanes], fp);
      }
      const float sq = tree16(q);
      const float var = centered ? rt::mul(sq, rcp_n) : rt::div(sq, fn);
      const float r = rt::div(1.0f, rt::sqrt(rt::add(var, a.epsilon)));
      for (size_t j = 0; j < n; ++j) {
        float v;
        if (centered) {
          v = rt::mul(rt::sub(xj(j), mean), r);
          if (gamma && beta) v = madd(v, gamma[j], beta[j], fp);
          else if (gamma) v = rt::mul(v, gamma[j]);
          else if (beta) v = rt::add(v, beta[j]);
        } else {
          const float inv = gamma ? rt::mul(r, gamma[j]) : r;
          const float res = beta ? madd(rt::neg(mean), inv, beta[j], fp) : rt::neg(rt::mul(mean, inv));
          v = madd(xj(j), inv, res, fp);
        }
        y[(o * n + j) * inner + col] = v;
      }
    }
  }
}

void run(const ir::PermuteAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  y.resize(x.size());
  size_t out = 0;
  size_t i[6];
  for (i[0] = 0; i[0] < at(a.dims, 0); ++i[0])
    for (i[1] = 0; i[1] < at(a.dims, 1); ++i[1])
      for (i[2] = 0; i[2] < at(a.dims, 2); ++i[2])
        for (i[3] = 0; i[3] < at(a.dims, 3); ++i[3])
          for (i[4] = 0; i[4] < at(a.dims, 4); ++i[4])
            for (i[5] = 0; i[5] < at(a.dims, 5); ++i[5]) {
              size_t src = 0;
              for (size_t k = 0; k < 6; ++k) src += i[k] * at(a.strides, k);
              y.at(out++) = x.at(src);
            }
}

void run(const ir::PadCropAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  int64_t o[4];
  for (size_t k = 0; k < 4; ++k) o[k] = a.in.at(k) + a.before.at(k) + a.after.at(k);
  y.assign(static_cast<size_t>(o[0] * o[1] * o[2] * o[3]), 0.0f);
  size_t out = 0;
  int64_t i[4];
  for (i[0] = 0; i[0] < o[0]; ++i[0])
    for (i[1] = 0; i[1] < o[1]; ++i[1])
      for (i[2] = 0; i[2] < o[2]; ++i[2])
        for (i[3] = 0; i[3] < o[3]; ++i[3], ++out) {
          int64_t src = 0;
          bool inside = true;
          for (size_t k = 0; k < 4; ++k) {
            const int64_t s = i[k] - a.before[k];
            inside = inside && s >= 0 && s < a.in[k];
            src = src * a.in[k] + s;
          }
          if (inside) y[out] = x.at(static_cast<size_t>(src));
        }
}

void run(const ir::RepeatAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  int64_t o[4];
  for (size_t k = 0; k < 4; ++k) o[k] = a.in.at(k) * a.factors.at(k);
  y.resize(static_cast<size_t>(o[0] * o[1] * o[2] * o[3]));
  size_t out = 0;
  int64_t i[4];
  for (i[0] = 0; i[0] < o[0]; ++i[0])
    for (i[1] = 0; i[1] < o[1]; ++i[1])
      for (i[2] = 0; i[2] < o[2]; ++i[2])
        for (i[3] = 0; i[3] < o[3]; ++i[3]) {
          int64_t src = 0;
          for (size_t k = 0; k < 4; ++k) src = src * a.in[k] + i[k] / a.factors[k];
          y[out++] = x.at(static_cast<size_t>(src));
        }
}

void run(const ir::ResizeAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  const ir::FpMode fp = c.g.fp;
  const int64_t ch = a.inner;
  y.resize(static_cast<size_t>(a.outer) * a.rows.size() * a.cols.size() * static_cast<size_t>(ch));
  size_t out = 0;
  for (int64_t o = 0; o < a.outer; ++o)
    for (const ir::ResizeTap& r : a.rows)
      for (const ir::ResizeTap& q : a.cols) {
        auto px = [&](int64_t row, int64_t col, int64_t k) {
          return x.at(static_cast<size_t>(((o * a.in_h + row) * a.in_w + col) * ch + k));
        };
        for (int64_t k = 0; k < ch; ++k) {
          if (a.method == ir::ResizeMethod::Nearest) {
            y[out++] = px(r.lo, q.lo, k);
            continue;
          }
          const float tl = px(r.lo, q.lo, k), tr = px(r.lo, q.hi, k), bl = px(r.hi, q.lo, k), br = px(r.hi, q.hi, k);
          const float top = madd(rt::sub(tr, tl), q.w, tl, fp);
          const float bottom = madd(rt::sub(br, bl), q.w, bl, fp);
          y[out++] = madd(rt::sub(bottom, top), r.w, top, fp);
        }
      }
}

}  // namespace kc2cpp::eval
