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

int64_t conv_lstm_pixels(const ConvLstmAttrs& a) {
  return (a.volume ? a.input_taps.out_d : 1) * a.input.geom.out_h * a.input.geom.out_w;
}

int64_t conv_lstm_scratch_floats(const ConvLstmAttrs& a) {
  const auto zone = [](int64_t n) { return gate_stride(n) + kGateAlign; };
  const int64_t p = conv_lstm_pixels(a), f = a.filters;
  int64_t n = 2 * zone(p * 4 * f) + 2 * zone(p * f);
  if (a.volume) {
    const ConvGeom& x = a.input.geom;
    const ConvGeom& h = a.recurrent.geom;
    n += zone(a.input_taps.out_d * x.in_h * x.in_w * x.in_c) + zone(a.recurrent_taps.out_d * h.in_h * h.in_w * h.in_c);
  }
  return n;
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
