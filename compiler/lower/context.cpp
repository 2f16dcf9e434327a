#include "lower/context.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace kc2cpp::lower {

int Context::keras_major() const {
  const std::string& v = model_.keras_version;
  return (!v.empty() && v[0] == '2') ? 2 : 3;
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

std::string Context::scoped(const std::string& keras_name) const {
  std::string s;
  for (const std::string& m : scope_) s += m + "/";
  return s + keras_name;
}

namespace {

std::vector<std::string> split_path(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(name.substr(start, slash - start));
  parts.push_back(name.substr(start));
  return parts;
}

// Whether weight `name` in a nested model's group belongs to layer `layer`: its path, without the
// leading components that name enclosing models (Keras >= 3.3 writes "base/dense_1/kernel", tf.keras
// 2 "dense_1/kernel:0"), starts with the layer's name.
bool belongs_to(const std::string& name, const std::string& layer, const std::vector<std::string>& models) {
  const std::vector<std::string> parts = split_path(name);
  size_t i = 0;
  while (i + 1 < parts.size() && parts[i] != layer &&
         std::find(models.begin(), models.end(), parts[i]) != models.end())
    ++i;
  return i + 1 < parts.size() && parts[i] == layer;
}

}  // namespace

const std::vector<load::NamedArray>& Context::weights(const Layer& layer, size_t count) const {
  static const std::vector<load::NamedArray> kNone;
  const std::string& own = layer.keras_name.empty() ? layer.name : layer.keras_name;
  const load::LayerWeights* w = model_.weights_of(scope_.empty() ? own : scope_.front());
  const std::vector<load::NamedArray>* found = w ? &w->arrays : &kNone;
  if (!scope_.empty()) {  // inside a nested model: this layer's share of the model's group
    std::vector<load::NamedArray>& share = shares_[scoped(own)];  // stable: map nodes never move
    share.clear();
    std::vector<std::string> models = scope_;
    models.push_back(graph_.name);
    for (const load::NamedArray& a : *found)
      if (belongs_to(a.name, own, models)) share.push_back(a);
    found = &share;
  }
  const std::vector<load::NamedArray>& arrays = *found;
  if (arrays.size() != count)
    throw LayerProblem{"the config implies " + std::to_string(count) + " weight arrays but the file holds " +
                       std::to_string(arrays.size()) + "; the file's weights do not belong to this config"};
  return arrays;
}

void Context::expect_shape(const load::NamedArray& a, const ir::Shape& want, const char* what) {
  if (a.shape != want)
    throw LayerProblem{std::string(what) + " '" + a.name + "' has shape " + shape_str(a.shape) +
                       " but the config implies " + shape_str(want) +
                       "; the file's weights do not belong to this config"};
}

// "sequential/dense/kernel", "dense/kernel:0" -> "kernel".
static std::string short_weight_name(const std::string& name) {
  std::string s = name.substr(name.find_last_of('/') + 1);
  const size_t colon = s.find(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

void Context::check_weight_budget(int64_t floats) const {
  int64_t total = floats;
  for (const ir::Weight& w : graph_.weights) total = ir::checked_add(total, static_cast<int64_t>(w.data.size()));
  if (floats < 0 || total > ir::kMaxWeightFloats)
    throw LayerProblem{"its weights would take the model past " + std::to_string(ir::kMaxWeightFloats) +
                       " floats (1 GiB) of weights, more than kc2cpp compiles; check the layer's configuration"};
}

int Context::add_weight(const Layer& layer, const load::NamedArray& a, ir::Shape shape) {
  check_weight_budget(static_cast<int64_t>(a.data.size()));
  ir::Weight w;
  w.name = layer.name + "/" + short_weight_name(a.name);  // layer.name is scoped inside nested models
  w.shape = std::move(shape);
  w.data = a.data;
  return graph_.add_weight(std::move(w));
}

int Context::add_param(const Layer& layer, const std::string& name, std::vector<float> data, ir::Shape shape) {
  check_weight_budget(static_cast<int64_t>(data.size()));
  ir::Weight w;
  w.name = layer.name + "/" + name;
  w.shape = shape.empty() ? ir::Shape{static_cast<int64_t>(data.size())} : std::move(shape);
  w.data = std::move(data);
  return graph_.add_weight(std::move(w));
}

int Context::add_op(const Layer& layer, ir::OpAttrs attrs, int input, ir::Shape out_shape) {
  check_shape(out_shape, "output");
  ir::Tensor t;
  t.name = layer.name;
  t.shape = std::move(out_shape);
  const int out = graph_.add_tensor(std::move(t));
  ir::Op op;
  op.name = layer.name;
  op.keras_class = layer.class_name;
  op.inputs = {input};
  op.outputs = {out};
  op.attrs = std::move(attrs);
  graph_.ops.push_back(std::move(op));
  return out;
}

void Context::set_mask(int tensor, const Layer& layer, int source, const ir::MaskAttrs& a) {
  masks_[tensor] = mask_defs_.size();
  MaskDef d;
  d.layer = layer.name, d.keras_class = layer.class_name, d.source = source, d.attrs = a;
  mask_defs_.push_back(std::move(d));
}

void Context::set_unknown_mask(int tensor, const std::string& why) {
  masks_[tensor] = mask_defs_.size();
  MaskDef d;
  d.unknown_why = why;
  mask_defs_.push_back(std::move(d));
}

void Context::set_combined_mask(int tensor, const Layer& layer, Combine how, const std::vector<int>& parts) {
  constexpr int kMaxDepth = 64;
  MaskDef d;
  d.layer = layer.name, d.keras_class = layer.class_name, d.parts = parts, d.how = how;
  for (int t : parts) {
    auto it = masks_.find(t);
    if (it == masks_.end()) continue;
    const MaskDef& m = mask_defs_[it->second];
    if (!m.unknown_why.empty()) return copy_mask(t, tensor);
    d.depth = std::max(d.depth, m.depth + 1);
  }
  if (d.depth > kMaxDepth)
    return set_unknown_mask(tensor, "layer '" + layer.name + "' combines masks more than " + std::to_string(kMaxDepth) +
                                        " merges deep");
  masks_[tensor] = mask_defs_.size();
  mask_defs_.push_back(std::move(d));
}

// The op of combined mask `index` (set_combined_mask), after those of its parts.
int Context::combined_mask(size_t index) {
  std::vector<int> in;
  const std::vector<int> parts = mask_defs_[index].parts;
  for (int t : parts) {
    if (has_mask(t)) {
      in.push_back(mask_of(t));
      continue;
    }
    ir::MaskAttrs ones;  // keep_t = any(x != NaN): every step
    ones.value = std::numeric_limits<float>::quiet_NaN();
    ones.features = shape_of(t).back();
    ir::Op op;
    op.name = mask_defs_[index].layer;
    op.keras_class = mask_defs_[index].keras_class;
    op.inputs = {t};
    op.outputs = {graph_.add_tensor({op.name + "/ones", {ir::num_elements(shape_of(t)) / ones.features, 1}})};
    op.attrs = ones;
    in.push_back(op.outputs[0]);
    graph_.ops.push_back(std::move(op));
  }
  MaskDef& m = mask_defs_[index];
  int64_t steps = 0;
  for (int t : in) steps += shape_of(t)[0];
  if (m.how != Combine::Concat) steps = shape_of(in[0])[0];
  ir::Op op;
  op.name = m.layer;
  op.keras_class = m.keras_class;
  op.inputs = in;
  op.outputs = {m.tensor = graph_.add_tensor({m.layer + "/mask", {steps, 1}})};
  if (m.how == Combine::Concat) op.attrs = ir::ConcatAttrs{0};
  else op.attrs = ir::MergeAttrs{m.how == Combine::And ? ir::MergeKind::Multiply : ir::MergeKind::Maximum, {}};
  graph_.ops.push_back(std::move(op));
  return m.tensor;
}

Context::MaskBinding Context::bind_mask(int tensor, const Layer& layer, int mask) {
  MaskBinding b{tensor, false, 0};
  auto it = masks_.find(tensor);
  if (it != masks_.end()) b.had = true, b.def = it->second;
  const int64_t steps = ir::num_elements(shape_of(mask));
  if (shape_of(tensor).empty() || shape_of(tensor)[0] != steps)
    throw LayerProblem{"its mask= argument has shape " + ir::to_string(shape_of(mask)) + ", not one value per timestep "
                       "of its input " + ir::to_string(shape_of(tensor))};
  MaskDef d;
  d.layer = layer.name, d.keras_class = layer.class_name;
  d.tensor = add_op(layer, ir::ReshapeAttrs{}, mask, {steps, 1});
  graph_.tensors[d.tensor].name = layer.name + "/mask";
  masks_[tensor] = mask_defs_.size();
  mask_defs_.push_back(std::move(d));
  return b;
}

void Context::unbind_mask(const MaskBinding& b) {
  if (b.had) masks_[b.tensor] = b.def;
  else masks_.erase(b.tensor);
}

void Context::copy_mask(int from, int to) {
  auto it = masks_.find(from);
  if (it != masks_.end()) masks_[to] = it->second;
}

int Context::mask_of(int tensor) {
  auto it = masks_.find(tensor);
  if (it == masks_.end()) return -1;
  masks_read_.insert(tensor);
  MaskDef& m = mask_defs_[it->second];
  if (!m.unknown_why.empty())
    throw LayerProblem{"reads a Keras mask that kc2cpp does not compute (" + m.unknown_why + "); remove the mask "
                       "(mask_zero=False, no Masking layer) or that layer"};
  if (m.tensor >= 0) return m.tensor;
  if (m.source < 0) return combined_mask(it->second);
  const int64_t steps = ir::num_elements(shape_of(m.source)) / m.attrs.features;
  ir::Op op;
  op.name = m.layer;
  op.keras_class = m.keras_class;
  op.inputs = {m.source};
  op.outputs = {m.tensor = graph_.add_tensor({m.layer + "/mask", {steps, 1}})};
  op.attrs = m.attrs;
  graph_.ops.push_back(std::move(op));
  return m.tensor;
}

void check_shape(const ir::Shape& shape, const char* what) {
  if (ir::checked_elements(shape) < 0)
    throw LayerProblem{std::string("its ") + what + " shape " + ir::to_string(shape) + " has a dimension below 1 or more "
                       "than 2^30 elements per sample, beyond what kc2cpp compiles; check the layer's configuration"};
}

const json& require(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) throw LayerProblem{std::string("config has no '") + key + "'"};
  return *it;
}

int64_t config_int(const json& v, const std::string& what) {
  if (!v.is_number_integer()) throw LayerProblem{"config " + what + " = " + v.dump() + " is not an integer"};
  const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t{ir::kMaxElements}
                                               : v.get<int64_t>() >= -ir::kMaxElements && v.get<int64_t>() <= ir::kMaxElements;
  if (!in_range)
    throw LayerProblem{"config " + what + " = " + v.dump() + " is out of range (kc2cpp accepts at most 2^30 in magnitude)"};
  return v.get<int64_t>();
}

int64_t get_int(const json& cfg, const char* key) { return config_int(require(cfg, key), std::string("'") + key + "'"); }

float get_float(const json& cfg, const char* key, float fallback) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  return config_float(*it, std::string("'") + key + "'");
}

float config_float(const json& v, const std::string& what) {
  if (!v.is_number() || v.is_boolean()) throw LayerProblem{"config " + what + " = " + v.dump() + " is not a number"};
  const double d = v.get<double>();
  if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max())
    throw LayerProblem{"config " + what + " = " + v.dump() + " is out of float32's range"};
  return static_cast<float>(d);
}

bool get_bool(const json& cfg, const char* key, bool fallback) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw LayerProblem{std::string("config '") + key + "' is not a boolean"};
  return it->get<bool>();
}

std::string get_string(const json& cfg, const char* key, const std::string& fallback) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw LayerProblem{std::string("config '") + key + "' is not a string"};
  return it->get<std::string>();
}

std::string string_at(const json& v, const char* key) {
  if (!v.is_object()) return "";
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>() : "";
}

int normalize_axis(int64_t keras_axis, size_t rank) {
  const int64_t full = static_cast<int64_t>(rank) + 1;  // with the batch dimension
  int64_t a = keras_axis < 0 ? keras_axis + full : keras_axis;
  if (a < 1 || a >= full)
    throw LayerProblem{"axis " + std::to_string(keras_axis) + " is out of range for a rank-" +
                       std::to_string(full) + " tensor (or is the batch axis)"};
  return static_cast<int>(a - 1);
}

static ir::Activation act(ir::ActKind k, float a = 0.0f) {
  ir::Activation r;
  r.kind = k;
  r.a = a;
  return r;
}

ParsedActivation parse_activation(const json& value, int keras_major) {
  std::string name;
  if (value.is_null()) return {};
  if (value.is_string()) {
    name = value.get<std::string>();
  } else if (string_at(value, "class_name") == "function" && !string_at(value, "config").empty()) {
    name = string_at(value, "config");
  } else {
    throw LayerProblem{"activation " + value.dump() + " is not a built-in activation; rebuild the model with a "
                       "built-in activation name"};
  }
  using K = ir::ActKind;
  ParsedActivation p;
  if (name == "linear" || name == "None") return p;
  if (name == "softmax") { p.softmax = true; return p; }
  if (name == "log_softmax") { p.log_softmax = true; return p; }
  if (name == "relu") p.act = act(K::Relu);
  else if (name == "relu6") { p.act = act(K::Relu); p.act.b = 6.0f; }
  else if (name == "leaky_relu") p.act = act(K::Relu, 0.2f);
  else if (name == "elu") p.act = act(K::Elu, 1.0f);
  else if (name == "selu") p.act = act(K::Selu);
  else if (name == "sigmoid") p.act = act(K::Sigmoid);
  else if (name == "hard_sigmoid") p.act = act(keras_major == 2 ? K::HardSigmoidK2 : K::HardSigmoidK3);
  else if (name == "hard_silu" || name == "hard_swish") p.act = act(K::HardSilu);
  else if (name == "tanh") p.act = act(K::Tanh);
  else if (name == "softplus") p.act = act(K::Softplus);
  else if (name == "softsign") p.act = act(K::Softsign);
  else if (name == "exponential") p.act = act(K::Exponential);
  else if (name == "swish" || name == "silu") p.act = act(K::Silu);
  else if (name == "gelu") p.act = act(K::GeluExact);
  else if (name == "mish") p.act = act(K::Mish);
  else throw LayerProblem{"activation '" + name + "' is not supported by kc2cpp yet"};
  return p;
}

int apply_activation(Context& cx, const Layer& layer, const ParsedActivation& p, int t) {
  const ir::Shape shape = cx.shape_of(t);
  if (p.softmax || p.log_softmax)
    return cx.add_op(layer, ir::SoftmaxAttrs{static_cast<int>(shape.size()) - 1, p.log_softmax}, t, shape);
  if (p.act.is_linear()) return t;
  return cx.add_op(layer, ir::ActivationAttrs{p.act}, t, shape);
}

}  // namespace kc2cpp::lower
