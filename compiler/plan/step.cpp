#include "plan/step.h"

#include <algorithm>
#include <variant>

namespace kc2cpp::plan {
namespace {

bool is_sequence_rnn(const ir::Op& op) {
  const auto* r = std::get_if<ir::RnnAttrs>(&op.attrs);
  const auto* c = std::get_if<ir::ConvLstmAttrs>(&op.attrs);
  return (r && !r->step) || (c && !c->step);
}

bool is_step_rnn(const ir::Op& op) {
  const auto* r = std::get_if<ir::RnnAttrs>(&op.attrs);
  const auto* c = std::get_if<ir::ConvLstmAttrs>(&op.attrs);
  return (r && r->step) || (c && c->step);
}

std::string label(const ir::Op& op) { return "layer '" + op.name + "' (" + op.keras_class + ")"; }

ir::Shape drop_time(const ir::Shape& s) { return ir::Shape(s.begin() + 1, s.end()); }

// Builds the one-timestep graph. Tensors of the source graph that still carry the time axis
// ("timed") become their one-timestep slice; tensors after the end of time are copied as they are.
class Builder {
 public:
  Builder(const ir::Graph& g, StepPlan& sp) : g_(g), sp_(sp), s_(sp.graph) {}

  // "" on success, else why the model cannot stream.
  std::string build() {
    if (g_.inputs.size() != 1 || g_.outputs.size() != 1)
      return "the model has " + std::to_string(g_.inputs.size()) + " inputs and " + std::to_string(g_.outputs.size()) +
             " outputs; step() needs one of each";
    const ir::Tensor& in = g_.tensors[g_.inputs[0]];
    if (in.shape.empty()) return "the input has no time axis";
    sp_.sequence_length = in.shape[0];
    s_.name = g_.name;
    s_.keras_version = g_.keras_version;
    s_.backend = g_.backend;
    s_.fp = g_.fp;
    s_.weights = g_.weights;  // same indices: the step code reads predict()'s weight arrays
    map_.assign(g_.tensors.size(), -1);
    timed_.assign(g_.tensors.size(), false);
    map_[g_.inputs[0]] = s_.add_tensor({in.name, drop_time(in.shape), in.dtype});
    timed_[g_.inputs[0]] = true;
    s_.inputs = {map_[g_.inputs[0]]};
    for (const ir::Op& op : g_.ops)
      if (std::string why = add(op); !why.empty()) return why;
    s_.outputs.insert(s_.outputs.begin(), map_[g_.outputs[0]]);
    sp_.output_per_timestep = timed_[g_.outputs[0]];
    return "";
  }

 private:
  int T() const { return static_cast<int>(sp_.sequence_length); }

  std::string add(const ir::Op& op) {
    int timed = 0;
    for (int t : op.inputs) timed += timed_[t] ? 1 : 0;
    if (timed == 0) return copy(op, false);  // after the end of time: one vector per step
    if (timed != static_cast<int>(op.inputs.size())) return label(op) + " mixes per-timestep and whole-sequence inputs";
    if (op.slices > 1) {
      if (op.slices != T()) return label(op) + " runs over " + std::to_string(op.slices) + " slices, not the timesteps";
      ir::Op o = op;
      o.slices = 1;
      return copy(o, true);
    }
    if (const auto* r = std::get_if<ir::RnnAttrs>(&op.attrs)) return recurrent(op, *r);
    if (const auto* c = std::get_if<ir::ConvLstmAttrs>(&op.attrs)) return conv_lstm(op, *c);
    if (std::holds_alternative<ir::DenseAttrs>(op.attrs)) {
      if (g_.tensors[op.inputs[0]].shape.size() < 2) return label(op) + " reduces over the time axis";
      return copy(op, true);
    }
    if (std::holds_alternative<ir::ActivationAttrs>(op.attrs) || std::holds_alternative<ir::IdentityAttrs>(op.attrs))
      return copy(op, true);
    if (const auto* sm = std::get_if<ir::SoftmaxAttrs>(&op.attrs)) {
      if (sm->axis == 0) return label(op) + " normalises over the time axis";
      ir::Op o = op;
      std::get<ir::SoftmaxAttrs>(o.attrs).axis -= 1;
      return copy(o, true);
    }
    if (const auto* p = std::get_if<ir::PReluAttrs>(&op.attrs)) return prelu(op, *p);
    if (std::holds_alternative<ir::EmbeddingAttrs>(op.attrs)) return copy(op, true);  // one lookup per index
    if (std::holds_alternative<ir::MaskAttrs>(op.attrs)) return copy(op, true);  // one timestep's features
    if (std::holds_alternative<ir::ScalarOpAttrs>(op.attrs)) return copy(op, true);  // merge family: elementwise
    if (std::holds_alternative<ir::MergeAttrs>(op.attrs)) {
      for (int t : op.inputs)
        if (g_.tensors[t].shape.size() != g_.tensors[op.outputs[0]].shape.size() || g_.tensors[t].shape[0] != T())
          return label(op) + " broadcasts an input across the time axis";
      return copy(op, true);
    }
    if (const auto* c = std::get_if<ir::ConcatAttrs>(&op.attrs)) {
      if (c->axis == 0) return label(op) + " concatenates along the time axis";
      ir::Op o = op;
      std::get<ir::ConcatAttrs>(o.attrs).axis -= 1;
      return copy(o, true);
    }
    if (std::holds_alternative<ir::BatchNormAttrs>(op.attrs) || std::holds_alternative<ir::LayerNormAttrs>(op.attrs))
      return normalization(op);
    if (const auto* m = std::get_if<ir::ChannelMapAttrs>(&op.attrs)) return channel_map(op, *m);
    if (const auto* p = std::get_if<ir::PermuteAttrs>(&op.attrs)) return permute(op, *p);
    if (std::holds_alternative<ir::ReshapeAttrs>(op.attrs)) {
      const ir::Shape& a = g_.tensors[op.inputs[0]].shape;
      const ir::Shape& b = g_.tensors[op.outputs[0]].shape;
      if (b.empty() || b[0] != a[0]) return label(op) + " mixes timesteps (reshapes across the time axis)";
      return copy(op, true);
    }
    return label(op) + " is not known to act on each timestep alone";
  }

  // The op on one timestep (timed: every shape loses its leading axis) or unchanged.
  std::string copy(ir::Op op, bool timed) {
    for (int& t : op.inputs) t = map_[t];
    for (int& t : op.outputs) {
      const int src = t;
      ir::Tensor n = g_.tensors[src];
      if (timed) n.shape = drop_time(n.shape);
      t = map_[src] = s_.add_tensor(n);
      timed_[src] = timed;
    }
    s_.ops.push_back(std::move(op));
    return "";
  }

  // [outer][n][inner] views: per timestep when the time axis is part of `outer`.
  std::string normalization(const ir::Op& op) {
    ir::Op o = op;
    int64_t* outer = nullptr;
    if (auto* bn = std::get_if<ir::BatchNormAttrs>(&o.attrs)) outer = &bn->outer;
    if (auto* ln = std::get_if<ir::LayerNormAttrs>(&o.attrs)) outer = &ln->outer;
    if (*outer % T() != 0) return label(op) + " normalises over the time axis";
    *outer /= T();
    return copy(o, true);
  }

  // Rescaling / Normalization over [outer][channels][inner]: per timestep when the time axis is part of
  // `outer`, or of `inner` for a scalar map (its parameters are the same at every timestep).
  std::string channel_map(const ir::Op& op, ir::ChannelMapAttrs m) {
    if (m.outer % T() == 0) m.outer /= T();
    else if (m.channels == 1 && m.inner % T() == 0) m.inner /= T();
    else return label(op) + " has different parameters for each timestep";
    ir::Op o = op;
    o.attrs = m;
    return copy(o, true);
  }

  // A Permute keeping the time axis first moves the axes of each timestep alone. Its outermost
  // non-unit axis of dims (ir::PermuteAttrs) is then the time axis, possibly merged with the
  // axes after it: one timestep has 1/T of its extent, at the same stride.
  std::string permute(const ir::Op& op, ir::PermuteAttrs p) {
    if (p.perm.empty() || p.perm[0] != 0) return label(op) + " moves the time axis";
    std::vector<int> perm;
    for (size_t k = 1; k < p.perm.size(); ++k) perm.push_back(p.perm[k] - 1);
    p.perm = perm;
    size_t k = 0;
    while (k < p.dims.size() && p.dims[k] == 1) ++k;
    if (k == p.dims.size() || p.dims[k] % T() != 0) return label(op) + " mixes timesteps";
    p.dims[k] /= T();
    ir::Op o = op;
    o.attrs = p;
    return copy(o, true);
  }

  std::string prelu(const ir::Op& op, const ir::PReluAttrs& p) {
    const std::vector<float>& a = g_.weights[p.alpha].data;
    const size_t per = a.size() / static_cast<size_t>(T());
    for (size_t t = 1; t < static_cast<size_t>(T()); ++t)
      if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(per), a.begin() + static_cast<std::ptrdiff_t>(t * per)))
        return label(op) + " has a different alpha for each timestep";
    ir::Weight w = g_.weights[p.alpha];
    w.name += "/one_timestep";
    w.shape = drop_time(w.shape);
    w.data.resize(per);
    ir::Op o = op;
    std::get<ir::PReluAttrs>(o.attrs).alpha = s_.add_weight(std::move(w));
    return copy(o, true);
  }

  std::string recurrent(const ir::Op& op, const ir::RnnAttrs& r) {
    if (op.keras_class.rfind("Bidirectional", 0) == 0)
      return "layer '" + op.name + "' (Bidirectional) reads the sequence backwards too: it needs the whole sequence";
    if (r.go_backwards)
      return label(op) + " has go_backwards=True: it needs the whole sequence before its first output";
    ir::Op o = op;
    auto& a = std::get<ir::RnnAttrs>(o.attrs);
    a.step = true;
    const int x = map_[op.inputs[0]];
    const auto h = state(op.name, "h", {r.units});
    o.inputs = {x, h.first};
    o.outputs = {h.second};
    if (r.cell == ir::RnnCell::Lstm) {
      const auto c = state(op.name, "c", {r.units});
      o.inputs.push_back(c.first);
      o.outputs.push_back(c.second);
    }
    if (r.masked) o.inputs.push_back(map_[op.inputs[1]]);  // the timestep's mask [1]
    const ir::Tensor& scratch = g_.tensors[op.outputs.back()];
    o.outputs.push_back(s_.add_tensor(scratch));
    map_[op.outputs[0]] = h.second;
    timed_[op.outputs[0]] = r.return_sequences;
    if (r.return_state)  // the last h (and c): after the end of time
      for (size_t k = 1; k + 1 < op.outputs.size(); ++k) {
        map_[op.outputs[k]] = o.outputs[k - 1];
        timed_[op.outputs[k]] = false;
      }
    s_.ops.push_back(std::move(o));
    return "";
  }

  // A State slot for `layer`'s state `what` of shape `shape`: its tensor read (a step graph input)
  // and written (an output), padded to whole kPad blocks.
  std::pair<int, int> state(const std::string& layer, const char* what, const ir::Shape& shape) {
    const int in = s_.add_tensor({layer + "/" + what, shape});
    const int out = s_.add_tensor({layer, shape});
    const int64_t floats = (ir::num_elements(shape) + kPad - 1) / kPad * kPad;
    sp_.slots.push_back({layer, what, sp_.state_floats, floats});
    sp_.state_floats += floats;
    s_.inputs.push_back(in);
    s_.outputs.push_back(out);
    return {in, out};
  }

  // ConvLSTM: h and c ([OD][OH][OW][F] each) in State; y (and return_state's h) is h', c is c'.
  std::string conv_lstm(const ir::Op& op, const ir::ConvLstmAttrs& a) {
    if (a.go_backwards)
      return label(op) + " has go_backwards=True: it needs the whole sequence before its first output";
    ir::Op o = op;
    std::get<ir::ConvLstmAttrs>(o.attrs).step = true;
    ir::Shape shape = g_.tensors[op.outputs[0]].shape;
    if (a.return_sequences) shape = drop_time(shape);
    const auto h = state(op.name, "h", shape), c = state(op.name, "c", shape);
    o.inputs = {map_[op.inputs[0]], h.first, c.first};
    o.outputs = {h.second, c.second, s_.add_tensor(g_.tensors[op.outputs.back()])};
    map_[op.outputs[0]] = h.second;
    timed_[op.outputs[0]] = a.return_sequences;
    if (a.return_state) {  // the last h and c: after the end of time
      map_[op.outputs[1]] = h.second, timed_[op.outputs[1]] = false;
      map_[op.outputs[2]] = c.second, timed_[op.outputs[2]] = false;
    }
    s_.ops.push_back(std::move(o));
    return "";
  }

  const ir::Graph& g_;
  StepPlan& sp_;
  ir::Graph& s_;
  std::vector<int> map_;      // source tensor -> step tensor
  std::vector<bool> timed_;   // source tensor still has the time axis
};

}  // namespace

std::shared_ptr<const StepPlan> make_step_plan(const ir::Graph& g) {
  // A step graph itself (it has step-form ops) gets no step plan of its own.
  if (std::none_of(g.ops.begin(), g.ops.end(), is_sequence_rnn) || std::any_of(g.ops.begin(), g.ops.end(), is_step_rnn))
    return nullptr;
  auto sp = std::make_shared<StepPlan>();
  sp->why_not = Builder(g, *sp).build();
  if (!sp->why_not.empty()) {
    sp->graph = ir::Graph{};
    sp->slots.clear();
    sp->state_floats = 0;
    return sp;
  }
  sp->state_floats += kPad;  // like an arena tensor, the last slot has kPad readable floats after it
  sp->plan = make_plan(sp->graph);
  // State tensors: read (graph inputs 1..) and written (graph outputs 1..) in place, slot k.
  for (size_t k = 0; k < sp->slots.size(); ++k) {
    const Location at{Location::State, sp->slots[k].offset};
    sp->plan.where[sp->graph.inputs[k + 1]] = at;
    sp->plan.where[sp->graph.outputs[k + 1]] = at;
  }
  for (const ir::Op& op : sp->graph.ops)  // views of a state tensor read the State too
    if (std::holds_alternative<ir::ReshapeAttrs>(op.attrs)) sp->plan.where[op.outputs[0]] = sp->plan.where[op.inputs[0]];
  return sp;
}

}  // namespace kc2cpp::plan
