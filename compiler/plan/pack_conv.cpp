#include "plan/pack_conv.h"

#include <string>

namespace kc2cpp::plan {
namespace {

using Packed = std::vector<std::pair<int, PackedWeight>>;

void kernel_and_bias(const ir::Graph& g, int kernel, int bias, int64_t groups, const char* rows, Packed& out) {
  const ir::Weight& k = g.weights[kernel];
  const int64_t cols = k.shape[1];
  const std::string dims = "[" + std::to_string(k.shape[0]) + "][" + std::to_string(cols) + "]";
  out.emplace_back(kernel, padded_rows(k, cols, "kernel " + dims + " (rows: " + rows + ")"));
  if (bias >= 0)
    out.emplace_back(bias, padded_rows(g.weights[bias], cols, groups > 1 ? "bias [group][filter]" : "bias"));
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
