// Evaluator: preprocessing ops, in the operation order documented in compiler/ir/ops_preprocessing.h
// (the same as runtime_min/kc2cpp_kernels_preprocessing.h and, for MulAdd, kc2cpp_kernels_shape.h's
// batchnorm). Scalar code.
#include <cmath>

#include "eval/ops.h"
#include "eval/runtime.h"

namespace kc2cpp::eval {

void run(const ir::ChannelMapAttrs& m, const OpContext& c) {
  const std::vector<float>& x = c.x();
  const std::vector<float>& a = c.weight(m.a);
  const std::vector<float>& b = c.weight(m.b);
  std::vector<float>& y = c.y();
  y.resize(x.size());
  const size_t channels = static_cast<size_t>(m.channels), inner = static_cast<size_t>(m.inner);
  const bool fused = c.g.fp == ir::FpMode::Fused;
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t ch = i / inner % channels;
    if (m.form == ir::ChannelMapForm::SubDiv) y[i] = rt::div(rt::sub(x[i], a[ch]), b[ch]);
    else y[i] = fused ? std::fma(x[i], a[ch], b[ch]) : rt::add(rt::mul(x[i], a[ch]), b[ch]);
  }
}

}  // namespace kc2cpp::eval
