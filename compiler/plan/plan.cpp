#include "plan/plan.h"
#include "plan/pack_conv.h"  // conv family
#include "plan/pack_recurrent.h"  // recurrent family
#include "plan/step.h"            // recurrent family: the streaming API

#include <algorithm>
#include <cstdint>
#include <limits>

#include "error.h"
#include <variant>

namespace kc2cpp::plan {
namespace {

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

struct Interval {
  int tensor;
  int64_t size;
  int first, last;  // op indices where it is written and last read (inclusive)
  int64_t offset = -1;
};

bool is_view(const ir::Op& op) { return std::holds_alternative<ir::ReshapeAttrs>(op.attrs); }

// Where a tensor's elements live: `offset` floats into the storage of tensor `root`.
struct Storage {
  int root;
  int64_t offset = 0;
};

// The tensor a chain of views (Reshape) reads, for every tensor.
std::vector<int> view_roots(const ir::Graph& g) {
  std::vector<int> root(g.tensors.size());
  for (size_t t = 0; t < root.size(); ++t) root[t] = static_cast<int>(t);
  for (const ir::Op& op : g.ops)
    if (is_view(op)) root[op.outputs[0]] = root[op.inputs[0]];
  return root;
}

// Views share their input's storage. The inputs of a Concatenate whose slices are contiguous in its
// output (every axis before the concatenation axis has extent 1) are written by their producers
// straight into their slice, no copy, when the input is produced by an op (not a model input), is
// no other Concatenate's slice, and the producers of such slices run in slice order: kernels may
// store up to kPad floats past a tensor's end, which then lands only on a slice written later (or
// on the room past the output's end). The Concatenate copies the slices that do not qualify.
std::vector<Storage> storage(const ir::Graph& g) {
  const std::vector<int> view = view_roots(g);
  std::vector<int> producer(g.tensors.size(), -1);
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (!is_view(g.ops[i]))
      for (int t : g.ops[i].outputs)
        if (producer[t] < 0) producer[t] = static_cast<int>(i);
  for (int t : g.inputs) producer[t] = -1;
  std::vector<Storage> parent(g.tensors.size(), Storage{-1});  // a slice's place in its Concatenate
  for (const ir::Op& op : g.ops) {
    const auto* c = std::get_if<ir::ConcatAttrs>(&op.attrs);
    if (!c || op.slices != 1) continue;
    const ir::Shape& out = g.tensors[op.outputs[0]].shape;
    if (ir::num_elements(ir::Shape(out.begin(), out.begin() + c->axis)) != 1) continue;
    int64_t at = 0;
    int last_producer = -1;
    for (int t : op.inputs) {
      const int r = view[t];
      const bool once = std::count_if(op.inputs.begin(), op.inputs.end(), [&](int u) { return view[u] == r; }) == 1;
      if (once && producer[r] > last_producer && parent[r].root < 0 && r != view[op.outputs[0]]) {
        parent[r] = {op.outputs[0], at};
        last_producer = producer[r];
      }
      at += ir::num_elements(g.tensors[t].shape);
    }
  }
  std::vector<Storage> st(g.tensors.size(), Storage{-1});
  for (size_t t = 0; t < st.size(); ++t) {
    Storage s{view[t], 0};
    while (parent[s.root].root >= 0) s = {view[parent[s.root].root], s.offset + parent[s.root].offset};
    st[t] = s;
  }
  return st;
}

std::vector<Interval> live_intervals(const ir::Graph& g, const std::vector<Storage>& st) {
  std::vector<int> first(g.tensors.size(), -1), last(g.tensors.size(), -1);
  const int end = static_cast<int>(g.ops.size());
  for (int i = 0; i < end; ++i) {
    const ir::Op& op = g.ops[i];
    for (int t : op.inputs) last[st[t].root] = std::max(last[st[t].root], i);
    if (!is_view(op))
      for (int t : op.outputs) {
        const int r = st[t].root;
        first[r] = first[r] < 0 ? i : std::min(first[r], i);
        last[r] = std::max(last[r], i);
      }
  }
  std::vector<int> root(g.tensors.size());
  for (size_t t = 0; t < root.size(); ++t) root[t] = st[t].root;
  for (int t : g.outputs) last[root[t]] = end;
  for (int t : g.inputs) first[t] = -1;  // inputs live in the caller's memory
  std::vector<Interval> out;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (first[t] < 0 || root[t] != static_cast<int>(t)) continue;
    const int64_t size = round_up(ir::num_elements(g.tensors[t].shape), kPad) + kPad;
    out.push_back({static_cast<int>(t), size, first[t], last[t]});
  }
  return out;
}

// First fit, largest first (ties by definition order): deterministic and tight for chains.
int64_t assign_offsets(std::vector<Interval>& iv) {
  std::vector<size_t> order(iv.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return iv[a].size > iv[b].size; });
  int64_t total = 0;
  std::vector<size_t> placed;
  for (size_t i : order) {
    int64_t offset = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (size_t j : placed) {
        const bool live_together = iv[i].first <= iv[j].last && iv[j].first <= iv[i].last;
        const bool overlap = offset < iv[j].offset + iv[j].size && iv[j].offset < offset + iv[i].size;
        if (live_together && overlap) offset = ir::checked_add(iv[j].offset, iv[j].size), moved = true;
      }
    }
    iv[i].offset = offset;
    placed.push_back(i);
    total = std::max(total, ir::checked_add(offset, iv[i].size));
  }
  return total;
}

void pack_weights(const ir::Graph& g, Plan& plan) {
  plan.weight_slot.assign(g.weights.size(), -1);
  auto add = [&](int index, PackedWeight p) {
    if (index < 0 || plan.weight_slot[index] >= 0) return;
    plan.weight_slot[index] = static_cast<int>(plan.weights.size());
    plan.weights.push_back(std::move(p));
  };
  for (const ir::Op& op : g.ops) {
    if (const auto* d = std::get_if<ir::DenseAttrs>(&op.attrs)) {
      const ir::Weight& k = g.weights[d->kernel];
      const std::string what = "kernel [" + std::to_string(k.shape[0]) + "][" + std::to_string(k.shape[1]) + "]";
      if (k.shape[1] == 1) {
        add(d->kernel, {k.name, what + ", one column: K contiguous floats", k.data});  // kc::dense_one
      } else {
        add(d->kernel, padded_rows(k, k.shape[1], what));
      }
      if (d->bias >= 0) add(d->bias, padded_rows(g.weights[d->bias], d->units, "bias"));
    } else if (const auto* p = std::get_if<ir::PReluAttrs>(&op.attrs)) {
      const ir::Weight& a = g.weights[p->alpha];
      add(p->alpha, {a.name, "alpha, broadcast to the input shape", a.data});
    }
    for (auto& [index, packed] : pack_conv_weights(g, op)) add(index, std::move(packed));  // conv family
    for (auto& [index, packed] : pack_recurrent_weights(g, op)) add(index, std::move(packed));  // recurrent family
    for (auto& [w, layout] : std::visit([](const auto& a) { return ir::unpadded_weights(a); }, op.attrs)) add(w, {g.weights[w].name, layout, g.weights[w].data});  // embedding, normalization and shape family
  }
}

}  // namespace

PackedWeight padded_rows(const ir::Weight& w, int64_t row, const std::string& what) {
  if (row <= 0 || w.data.size() % static_cast<size_t>(row) != 0)
    throw Error("internal: weight '" + w.name + "' is not made of rows of " + std::to_string(row) + " floats");
  return {w.name, what, w.data, row};
}

int64_t emitted_floats(const PackedWeight& w, int64_t wpad) {
  const int64_t n = static_cast<int64_t>(w.data.size());
  return w.row > 0 ? n / w.row * round_up(w.row, wpad) : n;
}

Plan make_plan(const ir::Graph& g) {
  Plan plan;
  const std::vector<Storage> st = storage(g);
  std::vector<Interval> iv = live_intervals(g, st);
  plan.arena_floats = assign_offsets(iv);
  if (plan.arena_floats > std::numeric_limits<int32_t>::max() - kPad)
    throw Error((g.source.empty() ? g.name : g.source) + ": the model needs a workspace of " +
                std::to_string(plan.arena_floats) + " floats, more than the generated code indexes (2^31 - 1); "
                "check the layers' sizes in the config (kc2cpp compiles models whose tensors fit one int-indexed arena)");
  for (const Interval& i : iv) plan.unshared_floats += i.size;
  plan.where.assign(g.tensors.size(), Location{});
  for (const Interval& i : iv) plan.where[i.tensor] = {Location::Arena, i.offset};
  for (size_t k = 0; k < g.inputs.size(); ++k) plan.where[g.inputs[k]] = {Location::Input, static_cast<int64_t>(k)};
  const std::vector<Location> own = plan.where;
  for (size_t t = 0; t < st.size(); ++t) {
    plan.where[t] = own[st[t].root];
    if (plan.where[t].kind == Location::Arena) plan.where[t].index += st[t].offset;
  }
  pack_weights(g, plan);
  plan.step = make_step_plan(g);  // recurrent family: the streaming API (plan/step.h)
  return plan;
}

}  // namespace kc2cpp::plan
