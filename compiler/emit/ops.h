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

  std::string ptr(int tensor) const;  // "input0" or "arena + 128"
  std::string in(size_t k = 0) const { return ptr(op.inputs[k]); }
  std::string out(size_t k = 0) const { return ptr(op.outputs[k]); }
  const ir::Shape& in_shape(size_t k = 0) const { return g.tensors[op.inputs[k]].shape; }
  const ir::Shape& out_shape(size_t k = 0) const { return g.tensors[op.outputs[k]].shape; }
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

// "kc::act::Relu{...}": the functor applying `a` in generated code.
std::string act_functor(const ir::Activation& a);

// ops_core.cpp
void emit_op(const ir::DenseAttrs&, OpEmitter&);
void emit_op(const ir::ActivationAttrs&, OpEmitter&);
void emit_op(const ir::SoftmaxAttrs&, OpEmitter&);
void emit_op(const ir::PReluAttrs&, OpEmitter&);
void emit_op(const ir::ReshapeAttrs&, OpEmitter&);
void emit_op(const ir::IdentityAttrs&, OpEmitter&);
// ops_conv.cpp
// ops_recurrent.cpp
// ops_shape.cpp

}  // namespace kc2cpp::emit
