// The Keras 3 weight layout (model.weights.h5 inside a .keras archive, and *.weights.h5 files).
//
// Keras saves an object's own variables under <path>/vars/<i> (i = 0, 1, ...: its trainable then its
// non-trainable variables, each in creation order) and walks on to its child objects:
//   a model's layers, the list model.layers, at <path>/layers/<key>, where key is the layer class
//     name in snake_case plus a per-list counter (dense, dense_1, leaky_re_lu; not the layer name);
//   attributes holding a layer: RNN cell (<path>/cell), Bidirectional forward_layer and
//     backward_layer, TimeDistributed layer.
// Since Keras 3.6 every vars group carries an attribute `name`: the object's name. Nothing stores
// the variables' names; they come from a table per class (var_names) and the layer's config.
//
// The legacy order of a top-level layer's weights (Layer.weights: own variables, then each child's,
// depth first; trainable ones first unless the layer is frozen) is rebuilt from that.
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "load/weights.h"

namespace kc2cpp::load {
namespace {

using json = nlohmann::json;

// keras.src.utils.naming.to_snake_case: drop non-word characters, then "(.)([A-Z][a-z]+)" -> "\1_\2",
// "([a-z])([A-Z])" -> "\1_\2", lower case.
std::string snake_case(const std::string& class_name) {
  std::string s;
  for (char c : class_name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) s += c;
  static const std::regex words("(.)([A-Z][a-z]+)"), humps("([a-z])([A-Z])");
  s = std::regex_replace(s, words, "$1_$2");
  s = std::regex_replace(s, humps, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A layer (or model) as the config describes it.
struct Entry {
  std::string cls;            // class_name
  std::string name;           // the layer's name ("" if the config has none)
  const json* config = nullptr;  // its "config" object, or nullptr
  std::string module;         // Keras 3 "module", or ""

  bool flag(const char* key, bool fallback) const {
    if (config == nullptr || !config->is_object()) return fallback;
    auto it = config->find(key);
    return it != config->end() && it->is_boolean() ? it->get<bool>() : fallback;
  }
  const json* sub(const char* key) const {
    if (config == nullptr || !config->is_object()) return nullptr;
    auto it = config->find(key);
    return it == config->end() || it->is_null() ? nullptr : &*it;
  }
};

Entry entry_of(const json& e, const std::string& where) {
  if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string())
    throw ConfigProblem(where + " has no \"class_name\"");
  Entry out;
  out.cls = e["class_name"].get<std::string>();
  auto cfg = e.find("config");
  if (cfg != e.end() && (cfg->is_object() || cfg->is_array())) out.config = &*cfg;
  if (e.contains("name") && e["name"].is_string()) out.name = e["name"].get<std::string>();
  else if (out.config && out.config->is_object() && out.config->contains("name") && (*out.config)["name"].is_string())
    out.name = (*out.config)["name"].get<std::string>();
  if (e.contains("module") && e["module"].is_string()) out.module = e["module"].get<std::string>();
  return out;
}

bool is_model(const Entry& e) { return e.cls == "Sequential" || e.cls == "Functional" || e.cls == "Model"; }

// The Python class Keras saved the object as ("Model" configs are Functional objects).
std::string saved_class(const Entry& e) { return e.cls == "Model" ? "Functional" : e.cls; }

// model.layers, in order (see saved_layer_names).
std::vector<Entry> model_layers(const Entry& model) {
  const json* list = model.config;
  if (list != nullptr && list->is_object()) list = list->contains("layers") ? &(*list)["layers"] : nullptr;
  if (list == nullptr || !list->is_array())
    throw ConfigProblem("model '" + model.name + "' (" + model.cls + ") has no \"layers\" list");
  std::vector<Entry> out;
  for (size_t i = 0; i < list->size(); ++i) {
    Entry e = entry_of((*list)[i], "layer #" + std::to_string(i) + " of model '" + model.name + "'");
    if (e.module.rfind("keras.src.ops", 0) == 0 || e.module.rfind("keras.ops", 0) == 0) continue;  // not a Layer
    if (model.cls == "Sequential" && e.cls == "InputLayer") continue;
    out.push_back(std::move(e));
  }
  return out;
}

// Keras's keys for a list of objects: snake_case class name, then _1, _2, ... for repeats.
std::vector<std::string> list_keys(const std::vector<Entry>& entries) {
  std::map<std::string, int> used;
  std::vector<std::string> keys;
  for (const Entry& e : entries) {
    const std::string base = snake_case(saved_class(e));
    auto it = used.find(base);
    if (it == used.end()) {
      used[base] = 0;
      keys.push_back(base);
    } else {
      keys.push_back(base + "_" + std::to_string(++it->second));
    }
  }
  return keys;
}

struct VarName {
  std::string name;
  bool trainable = true;  // created trainable
};

// The variables a layer class creates, in its save order, given its config.
std::vector<VarName> var_names(const Entry& e, int keras_major) {
  const std::string& c = e.cls;
  const bool bias = e.flag("use_bias", true);
  auto with_bias = [&](std::vector<VarName> v) {
    if (bias) v.push_back({"bias"});
    return v;
  };
  static const std::set<std::string> kernel_bias = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
                                                    "Conv2DTranspose", "Conv3DTranspose"};
  if (kernel_bias.count(c)) return with_bias({{"kernel"}});
  if (c == "EinsumDense") return e.sub("bias_axes") ? std::vector<VarName>{{"kernel"}, {"bias"}} : std::vector<VarName>{{"kernel"}};
  if (c == "DepthwiseConv1D" || c == "DepthwiseConv2D")
    return with_bias({{keras_major >= 3 ? "kernel" : "depthwise_kernel"}});
  if (c == "SeparableConv1D" || c == "SeparableConv2D") return with_bias({{"depthwise_kernel"}, {"pointwise_kernel"}});
  if (c == "SimpleRNNCell" || c == "LSTMCell" || c == "GRUCell" || c == "ConvLSTMCell")
    return with_bias({{"kernel"}, {"recurrent_kernel"}});
  if (c == "BatchNormalization" || c == "LayerNormalization" || c == "GroupNormalization") {
    std::vector<VarName> v;
    if (e.flag("scale", true)) v.push_back({"gamma"});
    if (e.flag("center", true)) v.push_back({"beta"});
    if (c == "BatchNormalization") v.insert(v.end(), {{"moving_mean", false}, {"moving_variance", false}});
    return v;
  }
  if (c == "Attention" || c == "AdditiveAttention") {  // AdditiveAttention's use_scale defaults to True
    std::vector<VarName> v;
    if (e.flag("use_scale", c == "AdditiveAttention")) v.push_back({"scale"});
    if (e.sub("score_mode") && *e.sub("score_mode") == "concat") v.push_back({"concat_score_weight"});
    return v;
  }
  if (c == "MultiHeadAttention.projection") return with_bias({{"kernel"}});  // its EinsumDense sublayers
  if (c == "Embedding") return {{"embeddings"}};
  if (c == "PReLU") return {{"alpha"}};
  if (c == "Normalization") return {{"mean", false}, {"variance", false}, {"count", false}};
  return {};
}

// A child object stored under an attribute of its parent.
struct Child {
  std::string key;           // the attribute: cell, forward_layer, backward_layer, layer
  Entry entry;
  std::string default_name;  // its name when the file does not say (Keras < 3.6)
};

std::vector<Child> children_of(const Entry& e) {
  if (e.cls == "LSTM" || e.cls == "GRU" || e.cls == "SimpleRNN") {
    Entry cell = e;
    cell.cls += "Cell";
    return {{"cell", cell, snake_case(e.cls) + "_cell"}};
  }
  if (e.cls == "ConvLSTM1D" || e.cls == "ConvLSTM2D" || e.cls == "ConvLSTM3D") {  // one cell class for all three
    Entry cell = e;
    cell.cls = "ConvLSTMCell";
    return {{"cell", cell, "conv_lstm_cell"}};
  }
  if (e.cls == "RNN" && e.sub("cell")) {
    Entry cell = entry_of(*e.sub("cell"), "the cell of layer '" + e.name + "'");
    return {{"cell", cell, cell.name}};
  }
  if (e.cls == "Bidirectional" && e.sub("layer")) {
    // Keras names the copies forward_<name> and backward_<name> (a name that already has the prefix
    // keeps it: Keras 3 saves the forward copy's config); a given backward_layer keeps its own name.
    Entry layer = entry_of(*e.sub("layer"), "the layer of '" + e.name + "'");
    auto prefixed = [&](const std::string& prefix) {
      return layer.name.rfind(prefix, 0) == 0 ? layer.name : prefix + layer.name;
    };
    Child forward{"forward_layer", layer, prefixed("forward_")};
    if (const json* b = e.sub("backward_layer")) {
      Entry back = entry_of(*b, "the backward_layer of '" + e.name + "'");
      return {forward, {"backward_layer", back, back.name}};
    }
    return {forward, {"backward_layer", layer, prefixed("backward_")}};
  }
  if (e.cls == "MultiHeadAttention") {  // four EinsumDense sublayers, biased as the layer's use_bias says
    Entry projection = e;
    projection.cls = "MultiHeadAttention.projection";
    return {{"query_dense", projection, "query"},
            {"key_dense", projection, "key"},
            {"value_dense", projection, "value"},
            {"output_dense", projection, "attention_output"}};
  }
  if (e.sub("layer") && e.sub("layer")->is_object()) {  // TimeDistributed and other wrappers
    Entry layer = entry_of(*e.sub("layer"), "the layer of '" + e.name + "'");
    return {{"layer", layer, layer.name}};
  }
  return {};
}

struct Var {
  std::string name;  // path of names below the top-level layer + variable name
  bool trainable;    // as Keras's v.trainable
  h5::Array array;
};

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

// The walk recurses once per level of nesting (models in models, wrappers, cells); a config nested
// deeper than any real model is refused before the stack could run out.
constexpr size_t kMaxDepth = 100;

class Walker {
 public:
  Walker(const h5::File& file, int keras_major) : file_(file), keras_major_(keras_major) {}

  // The layers of `model` stored below `parent`/layers, each as (entry, its variables).
  void layers(hid_t parent, const Entry& model, const std::vector<std::string>& path, bool trainable,
              std::vector<std::pair<Entry, std::vector<Var>>>& out) {
    const std::vector<Entry> entries = model_layers(model);
    if (entries.empty()) return;
    if (!h5::has_link(parent, "layers"))
      throw Mismatch(h5::path_of(parent) + " has no 'layers' group, but model '" + model.name + "' has " +
                     std::to_string(entries.size()) + " layer(s)");
    h5::Handle group = h5::open_group(parent, "layers");
    const std::vector<std::string> keys = list_keys(entries);
    for (size_t i = 0; i < entries.size(); ++i) {
      std::vector<Var> vars;
      object(group.get(), keys[i], entries[i], entries[i].name, path, entries[i].flag("trainable", trainable), true,
             vars);
      out.push_back({entries[i], std::move(vars)});
    }
    check_no_extra(group.get(), keys, model);
  }

 private:
  // One object at parent/key: its own variables, then its children's. `name` is its name for the
  // array names unless the file records another (checked_name: the file's must equal it).
  void object(hid_t parent, const std::string& key, const Entry& e, const std::string& name,
              std::vector<std::string> path, bool trainable, bool checked_name, std::vector<Var>& out) {
    if (path.size() >= kMaxDepth)
      throw ConfigProblem("layer '" + e.name + "' is nested more than " + std::to_string(kMaxDepth) +
                          " levels deep (models within models, wrappers, cells)");
    if (!h5::has_link(parent, key))
      throw Mismatch(h5::path_of(parent) + " has no '" + key + "' for layer '" + e.name + "' (" + e.cls + ")");
    h5::Handle group = h5::open_group(parent, key);
    h5::Handle vars;
    std::string saved_name;
    if (h5::has_link(group.get(), "vars")) {
      vars = h5::open_group(group.get(), "vars");
      if (h5::has_attr(vars.get(), "name")) {
        const std::vector<std::string> v = h5::read_strings(file_, vars.get(), "name");
        if (v.size() == 1) saved_name = v[0];
      }
    }
    if (checked_name && !saved_name.empty() && saved_name != name)
      throw Mismatch(h5::path_of(group.get()) + " holds the weights of a layer named '" + saved_name +
                     "', but the architecture's " + e.cls + " layer in that place is named '" + name + "'");
    path.push_back(checked_name || saved_name.empty() ? name : saved_name);
    if (vars.valid()) own_vars(vars.get(), e, path, trainable, out);
    if (is_model(e)) {
      std::vector<std::pair<Entry, std::vector<Var>>> inner;
      layers(group.get(), e, path, trainable, inner);
      for (auto& [entry, v] : inner) std::move(v.begin(), v.end(), std::back_inserter(out));
      return;
    }
    for (const Child& c : children_of(e))
      object(group.get(), c.key, c.entry, c.default_name, path, c.entry.flag("trainable", trainable), false, out);
  }

  void own_vars(hid_t vars, const Entry& e, const std::vector<std::string>& path, bool trainable,
                std::vector<Var>& out) {
    const std::vector<std::string> keys = h5::child_names(file_, vars);
    std::vector<std::pair<uint64_t, std::string>> sorted;  // HDF5 lists 0, 1, 10, 2: sort by number
    for (const std::string& k : keys) {
      if (k.empty() || k.size() > 9 || k.find_first_not_of("0123456789") != std::string::npos)
        throw Mismatch(h5::path_of(vars) + " has a member '" + k + "'; Keras names variables 0, 1, 2, ...");
      sorted.push_back({std::stoull(k), k});
    }
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i].first != i)
        throw Mismatch(h5::path_of(vars) + " has variables " + keys_text(sorted) + "; Keras numbers them 0, 1, 2, ...");
    const std::vector<VarName> names = var_names(e, keras_major_);
    const bool named = names.size() == sorted.size();
    for (size_t i = 0; i < sorted.size(); ++i) {
      std::vector<std::string> p = path;
      p.push_back(named ? names[i].name : sorted[i].second);
      out.push_back(Var{join(p), trainable && (!named || names[i].trainable),
                        h5::read_dataset(file_, vars, sorted[i].second)});
    }
  }

  static std::string keys_text(const std::vector<std::pair<uint64_t, std::string>>& keys) {
    std::string s;
    for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k.second;
    return s;
  }

  void check_no_extra(hid_t group, const std::vector<std::string>& keys, const Entry& model) {
    const std::set<std::string> expected(keys.begin(), keys.end());
    std::string extra;
    for (const std::string& k : h5::child_names(file_, group))
      if (!expected.count(k)) extra += (extra.empty() ? "'" : ", '") + k + "'";
    if (!extra.empty())
      throw Mismatch(h5::path_of(group) + " holds " + extra + ", which model '" + model.name +
                     "' has no layer for (its layers are stored as " + std::to_string(keys.size()) + " object(s))");
  }

  const h5::File& file_;
  int keras_major_;
};

// Layer.weights order: trainable variables first (v.trainable), unless the layer is frozen, then all
// in place (a frozen layer's non_trainable_weights is its whole weights list).
LayerWeights legacy_order(const Entry& layer, std::vector<Var> vars) {
  if (layer.flag("trainable", true))
    std::stable_partition(vars.begin(), vars.end(), [](const Var& v) { return v.trainable; });
  LayerWeights out{layer.name, {}};
  for (Var& v : vars) out.arrays.push_back(NamedArray{std::move(v.name), std::move(v.array.shape), std::move(v.array.data)});
  return out;
}

}  // namespace

std::vector<std::string> saved_layer_names(const nlohmann::json& config) {
  std::vector<std::string> names;
  for (const Entry& e : model_layers(entry_of(config, "the model"))) names.push_back(e.name);
  return names;
}

std::vector<LayerWeights> read_keras3_weights(const h5::File& file, const nlohmann::json& config, int keras_major) {
  const Entry model = entry_of(config, "the model");
  if (!is_model(model))
    throw ConfigProblem("the top-level class is '" + model.cls + "', not Sequential or Functional");
  std::vector<std::pair<Entry, std::vector<Var>>> layers;
  Walker(file, keras_major).layers(file.root(), model, {}, model.flag("trainable", true), layers);
  std::vector<LayerWeights> out;
  for (auto& [entry, vars] : layers) out.push_back(legacy_order(entry, std::move(vars)));
  return out;
}

}  // namespace kc2cpp::load
