// Recurrent family helpers (ir/ops_recurrent.h) and Op::slices (TimeDistributed).
#include "ir/ir.h"

namespace kc2cpp::ir {

int rnn_gates(RnnCell c) { return c == RnnCell::Lstm ? 4 : c == RnnCell::Gru ? 3 : 1; }

const char* to_string(RnnCell c) {
  switch (c) {
    case RnnCell::Simple: return "SimpleRNN";
    case RnnCell::Lstm: return "LSTM";
    case RnnCell::Gru: return "GRU";
  }
  return "?";
}

int64_t rnn_scratch_floats(const RnnAttrs& a) {
  return (2 * rnn_gates(a.cell) + 4) * gate_stride(a.units);
}

const char* to_string(MergeMode m) {
  switch (m) {
    case MergeMode::Concat: return "concat";
    case MergeMode::Sum: return "sum";
    case MergeMode::Ave: return "ave";
    case MergeMode::Mul: return "mul";
  }
  return "?";
}

Shape slice_shape(const Graph& g, const Op& op, int t) {
  const Shape& s = g.tensors.at(static_cast<size_t>(t)).shape;
  if (op.slices <= 1) return s;
  return Shape(s.begin() + 1, s.end());
}

}  // namespace kc2cpp::ir
