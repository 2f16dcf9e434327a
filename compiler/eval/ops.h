// One evaluator function per IR op kind (ops_<family>.cpp); eval.cpp dispatches on OpAttrs,
// so an op kind without a function here does not compile.
#pragma once

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
  const ir::Shape& in_shape(size_t k = 0) const { return g.tensors[op.inputs[k]].shape; }
  const ir::Shape& out_shape(size_t k = 0) const { return g.tensors[op.outputs[k]].shape; }
  const std::vector<float>& weight(int w) const { return g.weights[w].data; }
};

// The elementwise activation `a` of x, exactly as the generated code computes it.
float apply(const ir::Activation& a, float x);

// ops_core.cpp
void run(const ir::DenseAttrs&, const OpContext&);
void run(const ir::ActivationAttrs&, const OpContext&);
void run(const ir::SoftmaxAttrs&, const OpContext&);
void run(const ir::PReluAttrs&, const OpContext&);
void run(const ir::ReshapeAttrs&, const OpContext&);
void run(const ir::IdentityAttrs&, const OpContext&);
// ops_conv.cpp
// ops_recurrent.cpp
// ops_shape.cpp

}  // namespace kc2cpp::eval
