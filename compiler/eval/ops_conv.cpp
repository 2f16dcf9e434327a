// Evaluator: convolution and pooling ops, in the operation order of compiler/ir/ops_conv.h (the
// generated code's kernels in runtime_min/kc2cpp_kernels_conv.h follow the same order).
#include <cmath>

#include <xsimd/xsimd.hpp>

#include "eval/ops.h"
#include "eval/runtime.h"

namespace kc2cpp::eval {
namespace {

using B = xsimd::batch<float>;

// acc[j] = acc[j] + x[j] * w[j] (or fma) for j < n.
void accumulate_each(const float* x, const float* w, float* acc, size_t n, ir::FpMode fp) {
  if (fp == ir::FpMode::Fused) {
    for (size_t j = 0; j < n; ++j) acc[j] = std::fma(x[j], w[j], acc[j]);
    return;
  }
  size_t j = 0;
  for (; j + B::size <= n; j += B::size)
    (B::load_unaligned(acc + j) + B::load_unaligned(x + j) * B::load_unaligned(w + j)).store_unaligned(acc + j);
  for (; j < n; ++j) acc[j] = rt::add(acc[j], rt::mul(x[j], w[j]));
}

// The input index of tap k of output o along one axis (forward windows), or -1 for a padded tap.
int64_t tap_input(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t n) {
  const int64_t i = o * stride - pad + k * dil;
  return i >= 0 && i < n ? i : -1;
}

// The same for the transposed convolution's gather: (o + pad - k*dil) / stride when exact and in range.
int64_t transpose_tap_input(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t n) {
  const int64_t t = o + pad - k * dil;
  return t >= 0 && t % stride == 0 && t / stride < n ? t / stride : -1;
}

// y[j] = act(acc[j] (+ bias[j])) for j < n.
void epilogue(const float* acc, const std::vector<float>* bias, size_t bias_at, const ir::Activation& act,
              ir::FpMode fp, float* y, size_t n) {
  for (size_t j = 0; j < n; ++j) y[j] = apply(act, fp, bias ? rt::add(acc[j], (*bias)[bias_at + j]) : acc[j]);
}

float pool_combine(ir::PoolKind kind, float s, float x) {
  if (kind == ir::PoolKind::Average) return rt::add(s, x);
  return (x > s || x != x) ? x : s;  // NaN propagates; the first of equal values stays
}

}  // namespace

// The blocked sum of compiler/ir/ops_conv.h for one output pixel's n channels: add(r, ...) for
// the valid kernel positions r in ascending order, then done().
class BlockedSum {
 public:
  BlockedSum(size_t n, ir::FpMode fp) : total_(n, 0.0f), part_(n, 0.0f), fp_(fp) {}

  // The term x * w[j] for every channel j at kernel position r.
  void add(int64_t r, float x, const float* w) {
    const int64_t b = r / ir::kConvBlock;
    if (b != block_) flush(), block_ = b;
    accumulate(x, w, part_.data(), part_.size(), fp_);
  }
  const float* done() {
    flush();
    return total_.data();
  }

 private:
  void flush() {
    if (block_ < 0) return;
    for (size_t j = 0; j < total_.size(); ++j) total_[j] = rt::add(total_[j], part_[j]);
    std::fill(part_.begin(), part_.end(), 0.0f);
  }
  std::vector<float> total_, part_;
  ir::FpMode fp_;
  int64_t block_ = -1;
};

void run(const ir::ConvAttrs& a, const OpContext& c) {
  const ir::ConvGeom& g = a.geom;
  const std::vector<float>& x = c.x();
  const std::vector<float>& k = c.weight(a.kernel);
  const std::vector<float>* bias = a.bias >= 0 ? &c.weight(a.bias) : nullptr;
  const int64_t cg = g.in_c / a.groups, fg = g.out_c / a.groups, taps = g.k_h * g.k_w;
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(g.out_h * g.out_w * g.out_c), 0.0f);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow)
      for (int64_t gr = 0; gr < a.groups; ++gr) {
        BlockedSum sum(static_cast<size_t>(fg), c.g.fp);
        for (int64_t kh = 0; kh < g.k_h; ++kh) {
          const int64_t ih = tap_input(oh, kh, g.stride_h, g.pad_top, g.dil_h, g.in_h);
          if (ih < 0) continue;
          for (int64_t kw = 0; kw < g.k_w; ++kw) {
            const int64_t iw = tap_input(ow, kw, g.stride_w, g.pad_left, g.dil_w, g.in_w);
            if (iw < 0) continue;
            const float* xp = &x[static_cast<size_t>((ih * g.in_w + iw) * g.in_c + gr * cg)];
            const int64_t r = (kh * g.k_w + kw) * cg;
            const float* wp = &k[static_cast<size_t>((gr * taps * cg + r) * fg)];
            for (int64_t ch = 0; ch < cg; ++ch) sum.add(r + ch, xp[ch], wp + ch * fg);
          }
        }
        epilogue(sum.done(), bias, static_cast<size_t>(gr * fg), a.act, c.g.fp,
                 &y[static_cast<size_t>((oh * g.out_w + ow) * g.out_c + gr * fg)], static_cast<size_t>(fg));
      }
}

void run(const ir::DepthwiseConvAttrs& a, const OpContext& c) {
  const ir::ConvGeom& g = a.geom;
  const std::vector<float>& x = c.x();
  const std::vector<float>& k = c.weight(a.kernel);
  const std::vector<float>* bias = a.bias >= 0 ? &c.weight(a.bias) : nullptr;
  const size_t ch = static_cast<size_t>(g.in_c);
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(g.out_h * g.out_w) * ch, 0.0f);
  std::vector<float> acc(ch);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t kh = 0; kh < g.k_h; ++kh) {
        const int64_t ih = tap_input(oh, kh, g.stride_h, g.pad_top, g.dil_h, g.in_h);
        if (ih < 0) continue;
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          const int64_t iw = tap_input(ow, kw, g.stride_w, g.pad_left, g.dil_w, g.in_w);
          if (iw < 0) continue;
          accumulate_each(&x[static_cast<size_t>(ih * g.in_w + iw) * ch], &k[static_cast<size_t>(kh * g.k_w + kw) * ch],
                          acc.data(), ch, c.g.fp);
        }
      }
      epilogue(acc.data(), bias, 0, a.act, c.g.fp, &y[static_cast<size_t>(oh * g.out_w + ow) * ch], ch);
    }
}

void run(const ir::RepeatChannelsAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  const size_t ch = static_cast<size_t>(c.in_shape().back()), rows = x.size() / ch, t = static_cast<size_t>(a.times);
  std::vector<float>& y = c.y();
  y.resize(x.size() * t);
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < ch; ++i)
      for (size_t m = 0; m < t; ++m) y[(r * ch + i) * t + m] = x[r * ch + i];
}

void run(const ir::ConvTransposeAttrs& a, const OpContext& c) {
  const ir::ConvGeom& g = a.geom;
  const std::vector<float>& x = c.x();
  const std::vector<float>& k = c.weight(a.kernel);
  const std::vector<float>* bias = a.bias >= 0 ? &c.weight(a.bias) : nullptr;
  const size_t f = static_cast<size_t>(g.out_c);
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(g.out_h * g.out_w) * f, 0.0f);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      BlockedSum sum(f, c.g.fp);
      for (int64_t kh = 0; kh < g.k_h; ++kh) {
        const int64_t ih = transpose_tap_input(oh, kh, g.stride_h, g.pad_top, g.dil_h, g.in_h);
        if (ih < 0) continue;
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          const int64_t iw = transpose_tap_input(ow, kw, g.stride_w, g.pad_left, g.dil_w, g.in_w);
          if (iw < 0) continue;
          const float* xp = &x[static_cast<size_t>((ih * g.in_w + iw) * g.in_c)];
          const int64_t r = (kh * g.k_w + kw) * g.in_c;
          const float* wp = &k[static_cast<size_t>(r) * f];
          for (int64_t ch = 0; ch < g.in_c; ++ch) sum.add(r + ch, xp[ch], wp + static_cast<size_t>(ch) * f);
        }
      }
      epilogue(sum.done(), bias, 0, a.act, c.g.fp, &y[static_cast<size_t>(oh * g.out_w + ow) * f], f);
    }
}

void run(const ir::PoolAttrs& a, const OpContext& c) {
  const ir::ConvGeom& g = a.geom;
  const std::vector<float>& x = c.x();
  const size_t ch = static_cast<size_t>(g.in_c);
  std::vector<float>& y = c.y();
  y.assign(static_cast<size_t>(g.out_h * g.out_w) * ch, 0.0f);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow)
      for (size_t j = 0; j < ch; ++j) {
        float s = 0.0f;
        int n = 0;
        for (int64_t kh = 0; kh < g.k_h; ++kh) {
          const int64_t ih = tap_input(oh, kh, g.stride_h, g.pad_top, 1, g.in_h);
          if (ih < 0) continue;
          for (int64_t kw = 0; kw < g.k_w; ++kw) {
            const int64_t iw = tap_input(ow, kw, g.stride_w, g.pad_left, 1, g.in_w);
            if (iw < 0) continue;
            const float v = x[static_cast<size_t>(ih * g.in_w + iw) * ch + j];
            s = n++ == 0 ? v : pool_combine(a.kind, s, v);
          }
        }
        y[static_cast<size_t>(oh * g.out_w + ow) * ch + j] =
            a.kind == ir::PoolKind::Max ? s : rt::div(s, static_cast<float>(n));
      }
}

void run(const ir::DepthTapsAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  std::vector<float>& y = c.y();
  const int64_t row = a.plane * a.channels;  // one depth slice
  y.assign(static_cast<size_t>(a.out_d * a.plane * a.k_d * a.channels), 0.0f);
  for (int64_t od = 0; od < a.out_d; ++od)
    for (int64_t kd = 0; kd < a.k_d; ++kd) {
      const int64_t id = tap_input(od, kd, a.stride_d, a.pad_front, a.dil_d, a.in_d);
      if (id < 0) continue;
      for (int64_t p = 0; p < a.plane; ++p)
        std::copy_n(x.begin() + id * row + p * a.channels, a.channels,
                    y.begin() + ((od * a.plane + p) * a.k_d + kd) * a.channels);
    }
}

void run(const ir::GlobalPoolAttrs& a, const OpContext& c) {
  const std::vector<float>& x = c.x();
  const size_t rows = static_cast<size_t>(a.rows), ch = static_cast<size_t>(a.channels);
  std::vector<float>& y = c.y();
  y.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(ch));
  for (size_t r = 1; r < rows; ++r)
    for (size_t j = 0; j < ch; ++j) y[j] = pool_combine(a.kind, y[j], x[r * ch + j]);
  if (a.kind == ir::PoolKind::Average)
    for (size_t j = 0; j < ch; ++j) y[j] = rt::div(y[j], static_cast<float>(rows));
}

}  // namespace kc2cpp::eval
