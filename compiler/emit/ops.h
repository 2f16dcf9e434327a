// One emitter function per IR op kind (ops_<family>.cpp); emit_ops() dispatches on OpAttrs,
// so an op kind without an emitter does not compile. Each writes a comment naming the Keras
// layer(s) and its key configuration, then the kernel call(s).
#pragma once

#include <string>

#include "emit/naming.h"
#include "emit/printer.h"
#include "ir/ir.h"
#include "plan/plan.h"

namespace kc2cpp::emit {

class OpEmitter {
 public:
  OpEmitter(Printer& p, const ir::Graph& g, const plan::Plan& plan, NameTable& names, const ir::Op& op)
      : p(p), g(g), plan(plan), names_(names), op(op) {}

  // "input0", "arena + 128" or (streaming state, plan/step.h) "state.v + 32"; for an op with
  // slices > 1 (TimeDistributed) the current slice's start, e.g. "arena + 128 + slice * 12".
  std::string ptr(int tensor) const;
  std::string in(size_t k = 0) const { return ptr(op.inputs[k]); }
  std::string out(size_t k = 0) const { return ptr(op.outputs[k]); }
  // Per slice: without the leading axis when op.slices > 1 (ir::slice_shape).
  ir::Shape in_shape(size_t k = 0) const { return ir::slice_shape(g, op, op.inputs[k]); }
  ir::Shape out_shape(size_t k = 0) const { return ir::slice_shape(g, op, op.outputs[k]); }
  int64_t in_count(size_t k = 0) const { return ir::num_elements(in_shape(k)); }
  std::string weight(int w) const;    // the emitted array's identifier
  void comment(const std::string& what);  // "// <layer> (<Class>): what[; + fused layers]"

  Printer& p;
  const ir::Graph& g;
  const plan::Plan& plan;

 private:
  NameTable& names_;

 public:
  const ir::Op& op;
};

// "kc::act::Relu{...}", "kc::act::Sigmoid<true>{}": the functor applying `a` in generated code;
// the exponential-core ones carry the model's --fp mode.
std::string act_functor(const ir::Activation& a, ir::FpMode fp);
// "kc::Geom<H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL>" of a convolution (ops_conv.cpp).
std::string conv_geom(const ir::ConvGeom& g);

// ops_core.cpp
void emit_op(const ir::DenseAttrs&, OpEmitter&);
void emit_op(const ir::ActivationAttrs&, OpEmitter&);
void emit_op(const ir::SoftmaxAttrs&, OpEmitter&);
void emit_op(const ir::PReluAttrs&, OpEmitter&);
void emit_op(const ir::ReshapeAttrs&, OpEmitter&);
void emit_op(const ir::IdentityAttrs&, OpEmitter&);
// ops_conv.cpp
void emit_op(const ir::ConvAttrs&, OpEmitter&);
void emit_op(const ir::DepthwiseConvAttrs&, OpEmitter&);
void emit_op(const ir::RepeatChannelsAttrs&, OpEmitter&);
void emit_op(const ir::ConvTransposeAttrs&, OpEmitter&);
void emit_op(const ir::PoolAttrs&, OpEmitter&);
void emit_op(const ir::GlobalPoolAttrs&, OpEmitter&);
void emit_op(const ir::DepthTapsAttrs&, OpEmitter&);
// ops_recurrent.cpp
void emit_op(const ir::RnnAttrs&, OpEmitter&);
void emit_op(const ir::ConvLstmAttrs&, OpEmitter&);
void emit_op(const ir::BidirMergeAttrs&, OpEmitter&);
void emit_op(const ir::MaskAttrs&, OpEmitter&);
// ops_shape.cpp
void emit_op(const ir::EmbeddingAttrs&, OpEmitter&);
void emit_op(const ir::BatchNormAttrs&, OpEmitter&);
void emit_op(const ir::LayerNormAttrs&, OpEmitter&);
void emit_op(const ir::PermuteAttrs&, OpEmitter&);
void emit_op(const ir::PadCropAttrs&, OpEmitter&);
void emit_op(const ir::RepeatAttrs&, OpEmitter&);
void emit_op(const ir::ResizeAttrs&, OpEmitter&);
// ops_preprocessing.cpp
void emit_op(const ir::ChannelMapAttrs&, OpEmitter&);
// ops_merge.cpp
void emit_op(const ir::MergeAttrs&, OpEmitter&);
void emit_op(const ir::ScalarOpAttrs&, OpEmitter&);
void emit_op(const ir::ConcatAttrs&, OpEmitter&);
void emit_op(const ir::MatMulAttrs&, OpEmitter&);
void emit_op(const ir::L2NormalizeAttrs&, OpEmitter&);

}  // namespace kc2cpp::emit
