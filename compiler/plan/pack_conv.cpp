#include "plan/pack_conv.h"

#include <algorithm>
#include <string>

namespace kc2cpp::plan {
namespace {

// w viewed as [rows][cols] -> [rows][round_up(cols, kPad)], the padding zero.
PackedWeight padded_rows(const ir::Weight& w, int64_t rows, int64_t cols, const std::string& what) {
  const int64_t ld = (cols + kPad - 1) / kPad * kPad;
  std::string layout = what + " [" + std::to_string(rows) + "][" + std::to_string(ld) + "]";
  if (ld > cols) layout += " (columns " + std::to_string(cols) + ".." + std::to_string(ld - 1) + " zero)";
  PackedWeight p{w.name, layout, std::vector<float>(static_cast<size_t>(rows * ld), 0.0f)};
  for (int64_t r = 0; r < rows; ++r)
    std::copy_n(w.data.begin() + r * cols, cols, p.data.begin() + r * ld);
  return p;
}

using Packed = std::vector<std::pair<int, PackedWeight>>;

void kernel_and_bias(const ir::Graph& g, int kernel, int bias, int64_t groups, const char* rows, Packed& out) {
  const ir::Weight& k = g.weights[kernel];
  const int64_t cols = k.shape[1];
  out.emplace_back(kernel, padded_rows(k, k.shape[0], cols, std::string("kernel (rows: ") + rows + ")"));
  if (bias >= 0)
    out.emplace_back(bias, padded_rows(g.weights[bias], groups, cols, groups > 1 ? "bias (rows: group)" : "bias"));
}

}  // namespace

std::vector<std::pair<int, PackedWeight>> pack_conv_weights(const ir::Graph& g, const ir::Op& op) {
  Packed out;
  if (const auto* c = std::get_if<ir::ConvAttrs>(&op.attrs)) {
    const char* rows = c->groups > 1 ? "group, kh, kw, input channel" : "kh, kw, input channel";
    kernel_and_bias(g, c->kernel, c->bias, c->groups, rows, out);
  } else if (const auto* t = std::get_if<ir::ConvTransposeAttrs>(&op.attrs)) {
    kernel_and_bias(g, t->kernel, t->bias, 1, "kh, kw, input channel; columns: filter", out);
  } else if (const auto* d = std::get_if<ir::DepthwiseConvAttrs>(&op.attrs)) {
    kernel_and_bias(g, d->kernel, d->bias, 1, "kh, kw; columns: channel", out);
  }
  return out;
}

}  // namespace kc2cpp::plan
