#include "plan/pack_recurrent.h"

#include <string>

namespace kc2cpp::plan {
namespace {

// [rows][gates*u]: rows of u floats (one gate's columns), each padded per ISA by the emitter.
PackedWeight pack_gates(const ir::Weight& w, int64_t rows, int gates, int64_t u, const char* what) {
  return padded_rows(w, u, std::string(what) + " [" + std::to_string(rows) + "][" + std::to_string(gates) +
                               " gates x " + std::to_string(u) + "]");
}

}  // namespace

std::vector<std::pair<int, PackedWeight>> pack_recurrent_weights(const ir::Graph& g, const ir::Op& op) {
  std::vector<std::pair<int, PackedWeight>> out;
  if (const auto* cl = std::get_if<ir::ConvLstmAttrs>(&op.attrs)) {  // as two Conv ops (pack_conv.h), 4F columns
    const int64_t cols = 4 * cl->filters;
    out.emplace_back(cl->input.kernel, padded_rows(g.weights[cl->input.kernel], cols,
                                                   "kernel (rows: kh, kw, [kd,] input channel; columns: gate, filter)"));
    if (cl->input.bias >= 0) out.emplace_back(cl->input.bias, padded_rows(g.weights[cl->input.bias], cols, "bias"));
    out.emplace_back(cl->recurrent.kernel, padded_rows(g.weights[cl->recurrent.kernel], cols,
                                                       "recurrent kernel (rows: kh, kw, [kd,] filter; columns: gate, filter)"));
    return out;
  }
  const auto* r = std::get_if<ir::RnnAttrs>(&op.attrs);
  if (!r) return out;
  const int gates = ir::rnn_gates(r->cell);
  const ir::Weight& k = g.weights[r->kernel];
  out.emplace_back(r->kernel, pack_gates(k, k.shape[0], gates, r->units, "kernel"));
  out.emplace_back(r->recurrent, pack_gates(g.weights[r->recurrent], r->units, gates, r->units, "recurrent kernel"));
  if (r->bias >= 0) {
    const ir::Weight& b = g.weights[r->bias];
    const int64_t rows = b.shape.size() == 2 ? b.shape[0] : 1;
    out.emplace_back(r->bias, pack_gates(b, rows, gates, r->units, rows == 2 ? "bias (input row, recurrent row)" : "bias"));
  }
  return out;
}

}  // namespace kc2cpp::plan
