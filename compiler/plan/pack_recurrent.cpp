#include "plan/pack_recurrent.h"

#include <algorithm>
#include <string>

namespace kc2cpp::plan {
namespace {

// [rows][gates*u] -> [rows][gates*UG]: each gate's block of u columns padded with zeros to UG.
PackedWeight pack_gates(const ir::Weight& w, int64_t rows, int gates, int64_t u, const char* what) {
  const int64_t ug = ir::gate_stride(u), cols = gates * u, ld = gates * ug;
  std::string layout = std::string(what) + " [" + std::to_string(rows) + "][" + std::to_string(gates) + " gates x " +
                       std::to_string(ug) + "]";
  if (ug > u) layout += " (units " + std::to_string(u) + ".." + std::to_string(ug - 1) + " of each gate zero)";
  PackedWeight p{w.name, layout, std::vector<float>(static_cast<size_t>(rows * ld), 0.0f)};
  for (int64_t r = 0; r < rows; ++r)
    for (int g = 0; g < gates; ++g)
      std::copy_n(w.data.begin() + r * cols + g * u, u, p.data.begin() + r * ld + g * ug);
  return p;
}

}  // namespace

std::vector<std::pair<int, PackedWeight>> pack_recurrent_weights(const ir::Graph& g, const ir::Op& op) {
  std::vector<std::pair<int, PackedWeight>> out;
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
