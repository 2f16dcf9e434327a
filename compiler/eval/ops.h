// One evaluator function per IR op kind (ops_<family>.cpp); eval.cpp dispatches on OpAttrs,
// so an op kind without a function here does not compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ir/ir.h"

namespace kc2cpp::eval {

// One sample of one op: its input and output buffers (dense row-major, per sample).
struct OpContext {
  const ir::Graph& g;
  const ir::Op& op;
  std::vector<const std::vector<float>*> in;
  std::vector<std::vector<float>*> out;

  const std::vector<float>& x(size_t k = 0) const { return *in[k]; }
  std::vector<float>& y(size_t k = 0) const { return *out[k]; }
  // Per slice: without the leading axis when op.slices > 1 (TimeDistributed; ir::slice_shape).
  ir::Shape in_shape(size_t k = 0) const { return ir::slice_shape(g, op, op.inputs[k]); }
  ir::Shape out_shape(size_t k = 0) const { return ir::slice_shape(g, op, op.outputs[k]); }
  const std::vector<float>& weight(int w) const { return g.weights[w].data; }
};

// The elementwise activation `a` of x, exactly as the generated code computes it in mode fp.
float apply(const ir::Activation& a, ir::FpMode fp, float x);

// acc[j] = acc[j] + x * w[j] (product rounded, then sum; or one fused rounding) for j < n:
// independent outputs, vectorised. ops_core.cpp.
void accumulate(float x, const float* w, float* acc, size_t n, ir::FpMode fp);

// y[j] = sum_i x[i] * w[i*ldw + j] for i < k, j < n, in the order of ir::DenseAttrs with `splits`
// accumulators (the Dense op and the recurrent cells' x·W and h·U). ops_core.cpp. With `init`
// (--fp fused Dense bias, n values), chain 0 starts as fma(x_0, w_0j, init_j).
void reduce_columns(const float* x, int64_t k, const float* w, int64_t ldw, int64_t n, int splits, ir::FpMode fp,
                    float* y, const float* init = nullptr);

// ops_core.cpp
void run(const ir::DenseAttrs&, const OpContext&);
void run(const ir::ActivationAttrs&, const OpContext&);
void run(const ir::SoftmaxAttrs&, const OpContext&);
void run(const ir::PReluAttrs&, const OpContext&);
void run(const ir::ReshapeAttrs&, const OpContext&);
void run(const ir::IdentityAttrs&, const OpContext&);
// ops_conv.cpp
void run(const ir::ConvAttrs&, const OpContext&);
void run(const ir::DepthwiseConvAttrs&, const OpContext&);
void run(const ir::RepeatChannelsAttrs&, const OpContext&);
void run(const ir::ConvTransposeAttrs&, const OpContext&);
void run(const ir::PoolAttrs&, const OpContext&);
void run(const ir::GlobalPoolAttrs&, const OpContext&);
void run(const ir::DepthTapsAttrs&, const OpContext&);
// ops_recurrent.cpp
void run(const ir::RnnAttrs&, const OpContext&);
void run(const ir::ConvLstmAttrs&, const OpContext&);
void run(const ir::BidirMergeAttrs&, const OpContext&);
void run(const ir::MaskAttrs&, const OpContext&);
// ops_shape.cpp
void run(const ir::EmbeddingAttrs&, const OpContext&);
void run(const ir::BatchNormAttrs&, const OpContext&);
void run(const ir::LayerNormAttrs&, const OpContext&);
void run(const ir::PermuteAttrs&, const OpContext&);
void run(const ir::PadCropAttrs&, const OpContext&);
void run(const ir::RepeatAttrs&, const OpContext&);
void run(const ir::ResizeAttrs&, const OpContext&);
// ops_preprocessing.cpp
void run(const ir::ChannelMapAttrs&, const OpContext&);
// ops_merge.cpp
void run(const ir::MergeAttrs&, const OpContext&);
void run(const ir::ScalarOpAttrs&, const OpContext&);
void run(const ir::ConcatAttrs&, const OpContext&);
void run(const ir::MatMulAttrs&, const OpContext&);
void run(const ir::L2NormalizeAttrs&, const OpContext&);

}  // namespace kc2cpp::eval
