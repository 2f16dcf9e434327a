#include "passes/passes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

namespace kc2cpp::passes {
namespace {

int count_uses(const ir::Graph& g, int tensor) {
  int n = 0;
  for (const ir::Op& op : g.ops) n += static_cast<int>(std::count(op.inputs.begin(), op.inputs.end(), tensor));
  return n;
}

bool is_output(const ir::Graph& g, int tensor) {
  return std::find(g.outputs.begin(), g.outputs.end(), tensor) != g.outputs.end();
}

void replace_uses(ir::Graph& g, int from, int to) {
  for (ir::Op& op : g.ops) std::replace(op.inputs.begin(), op.inputs.end(), from, to);
  std::replace(g.outputs.begin(), g.outputs.end(), from, to);
}

std::string label(const ir::Op& op) { return op.name + " (" + op.keras_class + ")"; }

}  // namespace

void remove_identity(ir::Graph& g) {
  std::vector<ir::Op> kept;
  for (ir::Op& op : g.ops) {
    if (std::holds_alternative<ir::IdentityAttrs>(op.attrs)) {
      replace_uses(g, op.outputs[0], op.inputs[0]);
      continue;
    }
    kept.push_back(std::move(op));
  }
  g.ops = std::move(kept);
}

namespace {

// The epilogue activation of an op that has one (Dense, a merge), or nullptr.
ir::Activation* epilogue(ir::Op& op) {
  if (auto* d = std::get_if<ir::DenseAttrs>(&op.attrs)) return &d->act;
  if (auto* m = std::get_if<ir::MergeAttrs>(&op.attrs)) return &m->act;
  return nullptr;
}

}  // namespace

void fuse_activation(ir::Graph& g) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    ir::Activation* act_slot = epilogue(g.ops[i]);
    if (!act_slot || !act_slot->is_linear()) continue;
    const int t = g.ops[i].outputs[0];
    if (is_output(g, t) || count_uses(g, t) != 1) continue;
    for (size_t j = i + 1; j < g.ops.size(); ++j) {
      ir::Op& next = g.ops[j];
      if (next.inputs.empty() || next.inputs[0] != t) continue;
      if (auto* act = std::get_if<ir::ActivationAttrs>(&next.attrs); act && next.slices == g.ops[i].slices) {
        *act_slot = act->act;
        g.ops[i].outputs = next.outputs;
        g.ops[i].fused.push_back(label(next));
        g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(j));
      }
      break;
    }
  }
}

int reduction_splits(int64_t n, ir::FpMode fp) {
  if (fp == ir::FpMode::Fused) return static_cast<int>(std::clamp<int64_t>((n + 1) / 2, 1, 4));
  if (n > 32) return 4;
  return static_cast<int>(std::max<int64_t>(n, 1));
}

int dense_splits(int64_t n, int64_t columns, ir::FpMode fp) {
  const int s = reduction_splits(n, fp);
  if (n < kLongSum) return s;
  const int64_t fit = kOnePassFloats / ((columns + 15) / 16 * 16);  // chains one block of all columns can hold
  return fit >= 1 ? static_cast<int>(std::min<int64_t>(fit, s)) : s;
}

int recurrent_splits(int64_t n, ir::FpMode fp) {
  if (fp == ir::FpMode::Fused) return reduction_splits(n, fp);
  return static_cast<int>(std::clamp<int64_t>(n, 1, 4));
}

void choose_splits(ir::Graph& g) {
  for (ir::Op& op : g.ops) {
    if (auto* d = std::get_if<ir::DenseAttrs>(&op.attrs))
      d->splits = dense_splits(g.tensors[op.inputs[0]].shape.back(), d->units, g.fp);
    if (auto* m = std::get_if<ir::MatMulAttrs>(&op.attrs)) m->splits = reduction_splits(m->k, g.fp);  // merge family
    if (auto* r = std::get_if<ir::RnnAttrs>(&op.attrs)) {  // recurrent family: x·W over `in`, h·U over units
      r->x_splits = recurrent_splits(g.tensors[op.inputs[0]].shape.back(), g.fp);
      r->h_splits = recurrent_splits(r->units, g.fp);
    }
  }
}

void merge_slices(ir::Graph& g) {
  for (ir::Op& op : g.ops) {
    const bool last_axis_op = std::holds_alternative<ir::DenseAttrs>(op.attrs) ||
                              std::holds_alternative<ir::ActivationAttrs>(op.attrs) ||
                              std::holds_alternative<ir::ReshapeAttrs>(op.attrs);
    if (op.slices > 1 && last_axis_op) op.slices = 1;
  }
}

namespace {

// Where a BatchNorm's per-channel scale and shift can go: the kernel and bias of a linear Dense /
// Conv / DepthwiseConv / ConvTranspose. Its 2-D kernel is [groups * rows][cols]; element e belongs
// to output channel (e / cols / rows) * cols + e % cols.
struct FoldTarget {
  int* kernel = nullptr;
  int* bias = nullptr;
  int64_t rows = 0, cols = 0;
};

FoldTarget fold_target(ir::Op& op, const ir::Graph& g) {
  auto make = [&](int& kernel, int& bias, const ir::Activation& act, int64_t groups) {
    const ir::Shape& k = g.weights[kernel].shape;
    if (!act.is_linear() || k.size() != 2 || groups <= 0 || k[0] % groups != 0) return FoldTarget{};
    return FoldTarget{&kernel, &bias, k[0] / groups, k[1]};
  };
  if (auto* d = std::get_if<ir::DenseAttrs>(&op.attrs)) return make(d->kernel, d->bias, d->act, 1);
  if (auto* c = std::get_if<ir::ConvAttrs>(&op.attrs)) return make(c->kernel, c->bias, c->act, c->groups);
  if (auto* c = std::get_if<ir::DepthwiseConvAttrs>(&op.attrs)) return make(c->kernel, c->bias, c->act, 1);
  if (auto* c = std::get_if<ir::ConvTransposeAttrs>(&op.attrs)) return make(c->kernel, c->bias, c->act, 1);
  return {};
}

// v rounded to float, or false if the rounding loses what folding must keep: a non-finite value, or
// a non-zero value that becomes subnormal or zero (the unfolded op would have kept it normal).
bool fold_value(double v, float& out) {
  out = static_cast<float>(v);
  if (!std::isfinite(out)) return false;
  return v == 0 || std::fabs(out) >= std::numeric_limits<float>::min();
}

// Adds a weight named after the op it replaces in: "<old name>+<batch norm>".
int add_folded(ir::Graph& g, const std::string& name, ir::Shape shape, std::vector<float> data) {
  return g.add_weight({name, std::move(shape), std::move(data)});
}

// Folds BatchNorm op `j` into its producer if it can; returns true if it did (op j is then gone).
bool fold_one(ir::Graph& g, size_t j) {
  const auto* bn = std::get_if<ir::BatchNormAttrs>(&g.ops[j].attrs);
  if (!bn || bn->inner != 1) return false;
  const int t = g.ops[j].inputs[0];
  if (is_output(g, t) || count_uses(g, t) != 1) return false;
  size_t i = 0;
  while (i < j && (g.ops[i].outputs.empty() || g.ops[i].outputs[0] != t)) ++i;
  if (i == j) return false;
  const FoldTarget ft = fold_target(g.ops[i], g);
  if (!ft.kernel || ft.cols * (static_cast<int64_t>(g.weights[*ft.kernel].data.size()) / (ft.rows * ft.cols)) != bn->channels)
    return false;
  const size_t channels = static_cast<size_t>(bn->channels);
  std::vector<double> scale(channels), shift(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double gamma = bn->gamma >= 0 ? g.weights[bn->gamma].data[c] : 1.0;
    const double beta = bn->beta >= 0 ? g.weights[bn->beta].data[c] : 0.0;
    scale[c] = gamma / std::sqrt(double{g.weights[bn->variance].data[c]} + double{bn->epsilon});
    shift[c] = beta - double{g.weights[bn->mean].data[c]} * scale[c];
    if (!std::isfinite(scale[c]) || !std::isfinite(shift[c])) return false;
  }
  const ir::Weight& k = g.weights[*ft.kernel];
  std::vector<float> kernel(k.data.size()), bias(channels);
  for (size_t e = 0; e < kernel.size(); ++e) {
    const size_t c = static_cast<size_t>(static_cast<int64_t>(e) / ft.cols / ft.rows * ft.cols + static_cast<int64_t>(e) % ft.cols);
    if (!fold_value(k.data[e] * scale[c], kernel[e])) return false;
  }
  for (size_t c = 0; c < channels; ++c)
    if (!fold_value((*ft.bias >= 0 ? g.weights[*ft.bias].data[c] : 0.0) * scale[c] + shift[c], bias[c])) return false;
  const std::string suffix = "+" + g.ops[j].name;
  const std::string bias_name = *ft.bias >= 0 ? g.weights[*ft.bias].name : g.ops[i].name + "/bias";
  const ir::Shape kshape = k.shape;
  *ft.kernel = add_folded(g, k.name + suffix, kshape, std::move(kernel));
  *ft.bias = add_folded(g, bias_name + suffix, {bn->channels}, std::move(bias));
  g.ops[i].outputs = g.ops[j].outputs;
  g.ops[i].fused.push_back(label(g.ops[j]));
  g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(j));
  return true;
}

}  // namespace

void fold_batchnorm(ir::Graph& g) {
  for (size_t j = 0; j < g.ops.size(); ++j)
    if (fold_one(g, j)) --j;
}

void share_weights(ir::Graph& g) {
  std::vector<int> same(g.weights.size());
  std::map<std::string, std::vector<int>> by_name;  // name -> weights kept under it
  for (size_t w = 0; w < g.weights.size(); ++w) {
    same[w] = static_cast<int>(w);
    for (int k : by_name[g.weights[w].name])
      if (g.weights[k].shape == g.weights[w].shape && g.weights[k].data == g.weights[w].data) same[w] = k;
    if (same[w] == static_cast<int>(w)) by_name[g.weights[w].name].push_back(static_cast<int>(w));
  }
  for (auto& [name, kept] : by_name)  // one name per array: the emitted identifiers come from names
    for (size_t n = 1; n < kept.size(); ++n) g.weights[kept[n]].name += "#" + std::to_string(n + 1);
  for (ir::Op& op : g.ops) std::visit([&](auto& a) { ir::for_each_weight(a, [&](int& w) { if (w >= 0) w = same[w]; }); }, op.attrs);
}

void optimize(ir::Graph& g) {
  share_weights(g);
  remove_identity(g);
  fold_batchnorm(g);  // before fuse_activation: Dense -> BatchNorm -> Activation fuses all three
  merge_slices(g);
  fuse_activation(g);
  choose_splits(g);
  share_weights(g);  // folded copies of a shared layer's weights are equal again
}

}  // namespace kc2cpp::passes
