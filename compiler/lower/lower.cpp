// The lowering driver: finds the model's layer chain (Sequential, or a Functional model that
// is a chain), checks every layer class first so that all unsupported layers are reported
// together, then lowers layer by layer with shape inference.
#include "lower/lower.h"

#include <algorithm>
#include <map>

#include "error.h"
#include "lower/context.h"
#include "lower/unsupported.h"

namespace kc2cpp::lower {
namespace {

struct Problem {
  std::string layer, class_name, why;
};

struct Chain {
  ir::Shape input_shape;  // per sample
  ir::DType input_dtype = ir::DType::F32;
  std::string input_name = "input";
  std::vector<Layer> layers;  // without the InputLayer
  size_t outputs = 0;  // Functional: the model's output count (> 1: all from the last layer); 0: unchecked
};

Layer layer_of(const json& entry) {
  Layer l;
  l.class_name = entry.value("class_name", "");
  static const json kEmpty = json::object();
  auto cfg = entry.find("config");
  l.config = (cfg != entry.end() && cfg->is_object()) ? &*cfg : &kEmpty;
  l.name = entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>()
                                                                 : l.config->value("name", "");
  auto reg = entry.find("registered_name");
  if (reg != entry.end() && reg->is_string()) l.registered_name = reg->get<std::string>();
  return l;
}

// Per-sample shape from a Keras batch shape ([null, 3] -> {3}).
ir::Shape sample_shape(const json& batch_shape, const Layer& where) {
  if (!batch_shape.is_array() || batch_shape.empty())
    throw LayerProblem{"input shape " + batch_shape.dump() + " is not a batch shape"};
  ir::Shape s;
  for (size_t i = 1; i < batch_shape.size(); ++i) {
    const json& d = batch_shape[i];
    if (!d.is_number_integer() || d.get<int64_t>() <= 0)
      throw LayerProblem{"input dimension " + std::to_string(i) + " of " + batch_shape.dump() +
                         " is not fixed; kc2cpp needs static shapes (layer '" + where.name + "')"};
    s.push_back(d.get<int64_t>());
  }
  return s;
}

const json* batch_shape_of(const json& cfg) {
  for (const char* key : {"batch_shape", "batch_input_shape"}) {
    auto it = cfg.find(key);
    if (it != cfg.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

// The input's element type in the generated API: float32 -> F32 (float); an integer dtype -> I32
// (int32_t: Embedding indices; lower() checks that an Embedding reads the input).
ir::DType check_input_dtype(const Layer& l) {
  auto it = l.config->find("dtype");
  if (it == l.config->end() || it->is_null()) return ir::DType::F32;
  std::string dtype;
  if (it->is_string()) dtype = it->get<std::string>();
  else if (it->is_object()) dtype = it->value("config", json::object()).value("name", "float32");
  if (dtype.empty() || dtype == "float32") return ir::DType::F32;
  for (const char* i : {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"})
    if (dtype == i) return ir::DType::I32;
  throw LayerProblem{"input dtype '" + dtype + "' is not supported (float32 inputs, or integer indices into an "
                     "Embedding)"};
}

// Names of the layers feeding each call of a Functional layer (Keras 2 and 3 forms).
void collect_history(const json& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    if (v.value("class_name", "") == "__keras_tensor__") {
      const json& h = v["config"]["keras_history"];
      out.push_back(h.at(0).get<std::string>());
      return;
    }
    for (const auto& [k, x] : v.items()) collect_history(x, out);
  } else if (v.is_array()) {
    // Keras 2: [name, node_index, tensor_index, kwargs]
    if (v.size() >= 3 && v[0].is_string() && v[1].is_number_integer() && v[2].is_number_integer()) {
      out.push_back(v[0].get<std::string>());
      return;
    }
    for (const json& x : v) collect_history(x, out);
  }
}

std::vector<std::string> endpoints(const json& v) {
  std::vector<std::string> names;
  collect_history(v, names);
  return names;
}

std::string why_unsupported(const Layer& l) {
  if (l.class_name == "Lambda")
    return "arbitrary Python code cannot be compiled; rebuild the model from supported layers";
  const std::string& custom = l.registered_name.find('>') != std::string::npos ? l.registered_name : l.class_name;
  if (custom.find('>') != std::string::npos)  // "package>Name": registered with register_keras_serializable
    return "custom layer class '" + custom +
           "': its Python code is not in the file; rebuild the model from supported layers";
  if (l.class_name == "TFOpLambda" || l.class_name == "SlicingOpLambda" || l.class_name.empty())
    return "raw TensorFlow/Keras operations are not supported; use Keras layers instead";
  if (l.class_name == "Sequential" || l.class_name == "Functional" || l.class_name == "Model")
    return "nested models are not supported yet; build one flat model";
  if (const std::string b = why_unsupported_builtin(l.class_name); !b.empty()) return b;
  return "layer class '" + l.class_name + "' is not supported by kc2cpp yet (or is a custom class)";
}

class Walker {
 public:
  explicit Walker(const load::KerasModel& m) : model_(m) {}

  Chain find_chain(std::vector<Problem>& problems) {
    const json& top = model_.config;
    const std::string cls = top.value("class_name", "");
    const json& cfg = top.at("config");
    if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array())
      throw Error(model_.path + ": the model config has no layer list; is this a Keras model file?");
    for (const json& entry : cfg["layers"]) {
      Layer l = layer_of(entry);
      if (l.class_name != "InputLayer" && !find_lowering(l.class_name))
        problems.push_back({l.name, l.class_name, why_unsupported(l)});
    }
    if (cls == "Sequential") return sequential(cfg, problems);
    if (cls == "Functional" || cls == "Model") return functional(cfg, problems);
    throw Error(model_.path + ": model class '" + cls + "' is not supported; save a Sequential or Functional model");
  }

 private:
  Chain sequential(const json& cfg, std::vector<Problem>& problems) {
    Chain chain;
    bool have_shape = false;
    for (const json& entry : cfg["layers"]) {
      Layer l = layer_of(entry);
      if (l.class_name == "InputLayer") {
        set_input(chain, l, problems);
        have_shape = true;
        continue;
      }
      if (!have_shape) {
        const json* bs = batch_shape_of(*l.config);
        if (!bs && cfg.contains("build_input_shape")) bs = &cfg["build_input_shape"];
        if (bs) {
          try { chain.input_shape = sample_shape(*bs, l); have_shape = true; }
          catch (const LayerProblem& p) { problems.push_back({l.name, l.class_name, p.why}); }
        }
      }
      chain.layers.push_back(l);
    }
    if (!have_shape)
      throw Error(model_.path + ": the model has no input shape (it was saved before being built); build it "
                  "with an Input(...) layer and save it again");
    return chain;
  }

  void set_input(Chain& chain, const Layer& l, std::vector<Problem>& problems) {
    chain.input_name = l.name;
    try {
      const json* bs = batch_shape_of(*l.config);
      if (!bs) throw LayerProblem{"InputLayer has no batch_shape"};
      chain.input_shape = sample_shape(*bs, l);
      chain.input_dtype = check_input_dtype(l);
    } catch (const LayerProblem& p) {
      problems.push_back({l.name, l.class_name, p.why});
    }
  }

  Chain functional(const json& cfg, std::vector<Problem>& problems) {
    std::map<std::string, const json*> by_name;
    for (const json& entry : cfg["layers"]) by_name[layer_of(entry).name] = &entry;
    const auto ins = endpoints(cfg.value("input_layers", json::array()));
    const auto outs = endpoints(cfg.value("output_layers", json::array()));
    const bool one_layer_out =
        !outs.empty() && std::all_of(outs.begin(), outs.end(), [&](const std::string& o) { return o == outs[0]; });
    if (ins.size() != 1 || !one_layer_out)
      throw Error(model_.path + ": the model has " + std::to_string(ins.size()) + " inputs and " +
                  std::to_string(outs.size()) + " outputs; only single-input, single-output models are "
                  "supported yet");
    Chain chain;
    chain.outputs = outs.size();
    std::vector<Layer> reversed;
    std::string cur = outs[0];
    while (cur != ins[0]) {
      auto it = by_name.find(cur);
      if (it == by_name.end()) throw Error(model_.path + ": the config names an unknown layer '" + cur + "'");
      const Layer l = layer_of(*it->second);
      std::vector<std::string> feeds;
      collect_history(it->second->value("inbound_nodes", json::array()), feeds);
      if (feeds.size() != 1) {
        const bool known = std::any_of(problems.begin(), problems.end(), [&](const Problem& p) { return p.layer == l.name; });
        if (!known) problems.push_back({l.name, l.class_name,
                            "takes " + std::to_string(feeds.size()) + " inputs or is called more than once; only "
                            "models that are a chain of layers are supported yet"});
        break;
      }
      reversed.push_back(l);
      if (reversed.size() > by_name.size()) throw Error(model_.path + ": the layer graph has a cycle");
      cur = feeds[0];
    }
    if (cur == ins[0] && by_name.count(cur)) set_input(chain, layer_of(*by_name[cur]), problems);
    chain.layers.assign(reversed.rbegin(), reversed.rend());
    return chain;
  }

  const load::KerasModel& model_;
};

std::string report(const std::string& path, const std::vector<Problem>& problems) {
  std::string msg = path + ": " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") + "; the model cannot be compiled:";
  for (const Problem& p : problems) msg += "\n  layer '" + p.layer + "' (" + p.class_name + "): " + p.why;
  return msg;
}

}  // namespace

ir::Graph lower(const load::KerasModel& model) {
  if (!model.config.is_object() || !model.config.contains("config"))
    throw Error(model.path + ": the model config has no 'config' object; is this a Keras model file?");
  std::vector<Problem> problems;
  Walker walker(model);
  Chain chain = walker.find_chain(problems);
  if (!problems.empty()) throw Error(report(model.path, problems));

  ir::Graph g;
  g.name = model.config["config"].value("name", "model");
  g.keras_version = model.keras_version;
  g.backend = model.backend;
  Context cx(model, g);
  if (chain.input_dtype == ir::DType::I32 && (chain.layers.empty() || chain.layers[0].class_name != "Embedding"))
    throw Error(report(model.path, {{chain.input_name, "InputLayer", "integer inputs are supported only as the "
                                     "indices of an Embedding layer that reads the input directly"}}));
  int t = g.add_tensor({chain.input_name, chain.input_shape, chain.input_dtype});
  g.inputs = {t};
  for (const Layer& l : chain.layers) {
    try {
      if (!g.outputs.empty())  // set by a layer that gives several outputs (Bidirectional, merge_mode=None)
        throw LayerProblem{"follows a layer that gives several tensors; only a model's last layer may"};
      t = find_lowering(l.class_name)(cx, l, t);
    } catch (const LayerProblem& p) {
      problems.push_back({l.name, l.class_name, p.why});
      break;  // later shapes are unknown
    } catch (const nlohmann::json::exception& e) {
      problems.push_back({l.name, l.class_name, std::string("malformed config: ") + e.what()});
      break;
    }
  }
  if (!problems.empty()) throw Error(report(model.path, problems));
  if (g.outputs.empty()) g.outputs = {t};
  if (chain.outputs && g.outputs.size() != chain.outputs)
    throw Error(model.path + ": the model has " + std::to_string(chain.outputs) + " outputs but its last layer gives " +
                std::to_string(g.outputs.size()) + "; only single-output models (or one layer's outputs) are supported");
  return g;
}

}  // namespace kc2cpp::lower
