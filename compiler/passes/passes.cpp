#include "passes/passes.h"

#include <algorithm>

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

void fuse_activation(ir::Graph& g) {
  for (size_t i = 0; i < g.ops.size(); ++i) {
    auto* dense = std::get_if<ir::DenseAttrs>(&g.ops[i].attrs);
    if (!dense || !dense->act.is_linear()) continue;
    const int t = g.ops[i].outputs[0];
    if (is_output(g, t) || count_uses(g, t) != 1) continue;
    for (size_t j = i + 1; j < g.ops.size(); ++j) {
      ir::Op& next = g.ops[j];
      if (next.inputs.empty() || next.inputs[0] != t) continue;
      if (auto* act = std::get_if<ir::ActivationAttrs>(&next.attrs)) {
        dense->act = act->act;
        g.ops[i].outputs = next.outputs;
        g.ops[i].fused.push_back(label(next));
        g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(j));
      }
      break;
    }
  }
}

void choose_splits(ir::Graph& g) {
  for (ir::Op& op : g.ops) {
    if (auto* d = std::get_if<ir::DenseAttrs>(&op.attrs)) {
      const int64_t n = g.tensors[op.inputs[0]].shape.back();
      d->splits = n < 16 ? 1 : (n < 64 ? 2 : 4);
    }
  }
}

void optimize(ir::Graph& g) {
  remove_identity(g);
  fuse_activation(g);
  choose_splits(g);
}

}  // namespace kc2cpp::passes
