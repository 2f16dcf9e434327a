// The lowering driver: walks the model config as a graph of layer calls and lowers each call, in
// dependency order, with shape inference. A Sequential model is a chain of calls; a Functional
// model is any DAG (merges, several inputs and outputs, a layer called several times: one weight
// array, one set of ops per call); a model used as a layer is inlined where it is called, at any
// depth. Every layer class is checked first, so that all unsupported layers are reported together.
#include "lower/lower.h"

#include <algorithm>
#include <map>
#include <set>

#include "error.h"
#include "lower/context.h"
#include "lower/unsupported.h"

namespace kc2cpp::lower {
namespace {

constexpr int kMaxDepth = 64;  // nesting of models, and of lists in a config's tensor references

struct Problem {
  std::string layer, class_name, why;
};

bool is_model_class(const std::string& cls) { return cls == "Sequential" || cls == "Functional" || cls == "Model"; }

Layer layer_of(const json& entry, const std::string& scope) {
  Layer l;
  static const json kEmpty = json::object();
  if (!entry.is_object()) {
    l.config = &kEmpty;
    return l;
  }
  auto cls = entry.find("class_name");
  if (cls != entry.end() && cls->is_string()) l.class_name = cls->get<std::string>();
  auto cfg = entry.find("config");
  l.config = (cfg != entry.end() && cfg->is_object()) ? &*cfg : &kEmpty;
  auto name = entry.find("name");
  if (name != entry.end() && name->is_string()) l.keras_name = name->get<std::string>();
  else if ((name = l.config->find("name")) != l.config->end() && name->is_string()) l.keras_name = name->get<std::string>();
  l.name = scope + l.keras_name;
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
    if (d.is_null())
      throw LayerProblem{"input dimension " + std::to_string(i) + " of " + batch_shape.dump() +
                         " is not fixed (None); kc2cpp needs static shapes: give the Input a fixed shape (layer '" +
                         where.name + "')"};
    if (!d.is_number_integer() || d.get<int64_t>() <= 0)
      throw LayerProblem{"input dimension " + std::to_string(i) + " of " + batch_shape.dump() +
                         " is not a positive integer; the file is damaged or was not written by Keras"};
    s.push_back(d.get<int64_t>());  // graph_input checks the count (check_shape)
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
// (int32_t: Embedding indices; lower() checks that only Embeddings read it).
ir::DType check_input_dtype(const Layer& l) {
  auto it = l.config->find("dtype");
  if (it == l.config->end() || it->is_null()) return ir::DType::F32;
  std::string dtype;
  if (it->is_string()) dtype = it->get<std::string>();
  else if (it->is_object()) dtype = string_at(it->value("config", json()), "name");
  else throw LayerProblem{"input dtype " + it->dump().substr(0, 100) + " is neither a name nor a DTypePolicy"};
  if (dtype.empty() || dtype == "float32") return ir::DType::F32;
  for (const char* i : {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"})
    if (dtype == i) return ir::DType::I32;
  throw LayerProblem{"input dtype '" + dtype + "' is not supported (float32 inputs, or integer indices into an "
                     "Embedding)"};
}

// ---- tensor references in a Functional config -------------------------------------------------

// Output `tensor` of call `node` of layer `layer`.
struct Ref {
  std::string layer;
  int64_t node = 0, tensor = 0;
};

// Keras 2: [name, node, tensor(, kwargs)]; Keras 3: {"class_name": "__keras_tensor__", "config":
// {"keras_history": [name, node, tensor]}}.
bool as_ref(const json& v, Ref& r) {
  const json* h = &v;
  if (v.is_object()) {
    if (string_at(v, "class_name") != "__keras_tensor__") return false;
    auto c = v.find("config");
    if (c == v.end() || !c->is_object() || !c->contains("keras_history")) return false;
    h = &(*c)["keras_history"];
  }
  if (!h->is_array() || h->size() < 3 || !(*h)[0].is_string() || !(*h)[1].is_number_integer() ||
      !(*h)[2].is_number_integer())
    return false;
  r = {(*h)[0].get<std::string>(), (*h)[1].get<int64_t>(), (*h)[2].get<int64_t>()};
  return true;
}

// Every reference in v, depth first in order (lists nested as the call's arguments nest them).
void collect_refs(const json& v, std::vector<Ref>& out, int depth = 0) {
  if (depth > kMaxDepth) throw LayerProblem{"tensor references are nested more than " + std::to_string(kMaxDepth) + " deep"};
  Ref r;
  if (as_ref(v, r)) {
    out.push_back(r);
  } else if (v.is_array()) {
    for (const json& x : v) collect_refs(x, out, depth + 1);
  } else if (v.is_object() && !v.contains("class_name")) {  // Keras 3 dict of tensors
    for (const auto& [k, x] : v.items()) collect_refs(x, out, depth + 1);
  }
}

// The tensors one call (one entry of inbound_nodes) reads: the positional ones, then those passed
// as value= and key= (attention layers; tf.keras 2 saves MultiHeadAttention's value that way), in
// that order, then MultiHeadAttention's attention_mask=, then the mask= argument (one tensor for the
// first input, or a list with one entry per input, null for none: Attention's [query_mask,
// value_mask]). Other tensors passed by keyword (an initial state) are not supported.
struct CallRefs {
  std::vector<Ref> refs;
  std::vector<size_t> mask_slots;  // the last refs are the mask= tensors, of these inputs
};
CallRefs call_refs(const json& node) {
  std::vector<Ref> refs, value, key, attention_mask, mask, by_keyword;
  std::vector<size_t> slots;
  const auto masks = [&](const json& v) {
    Ref r;
    if (as_ref(v, r)) return mask.push_back(r), slots.push_back(0);
    if (!v.is_array()) return collect_refs(v, by_keyword);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_null()) continue;
      if (!as_ref(v[i], r)) throw LayerProblem{"mask= entry " + v[i].dump().substr(0, 200) + " is not a tensor"};
      mask.push_back(r), slots.push_back(i);
    }
  };
  const auto keywords = [&](const json& kwargs) {
    if (!kwargs.is_object()) return collect_refs(kwargs, by_keyword);
    for (const auto& [k, v] : kwargs.items()) {
      if (k == "mask") masks(v);
      else collect_refs(v, k == "value" ? value : k == "key" ? key : k == "attention_mask" ? attention_mask : by_keyword);
    }
  };
  if (node.is_object() && node.contains("args")) {  // Keras 3
    collect_refs(node["args"], refs);
    if (node.contains("kwargs")) keywords(node["kwargs"]);
  } else if (node.is_array()) {  // Keras 2: a list of [name, node, tensor, kwargs] (TFOpLambda: one, bare)
    Ref bare;
    const json one = json::array({node});
    for (const json& e : as_ref(node, bare) ? one : node) {
      Ref r;
      if (!as_ref(e, r)) throw LayerProblem{"inbound node entry " + e.dump().substr(0, 200) + " is not a tensor reference"};
      refs.push_back(r);
      if (e.size() > 3) keywords(e[3]);
    }
  } else {
    throw LayerProblem{"inbound node " + node.dump().substr(0, 200) + " is neither a Keras 2 list nor a Keras 3 call"};
  }
  if (!by_keyword.empty())
    throw LayerProblem{"receives tensor '" + by_keyword[0].layer + "' as a keyword argument (a mask or an initial "
                       "state); only positional tensor inputs (and an attention layer's value and key) are supported"};
  refs.insert(refs.end(), value.begin(), value.end());
  refs.insert(refs.end(), key.begin(), key.end());
  refs.insert(refs.end(), attention_mask.begin(), attention_mask.end());
  refs.insert(refs.end(), mask.begin(), mask.end());
  return {refs, slots};
}

// A layer entry's inbound_nodes (an empty list when it has none).
const json& nodes_of(const json& entry) {
  static const json kNone = json::array();
  auto it = entry.find("inbound_nodes");
  return it == entry.end() ? kNone : *it;
}

std::string report(const std::string& path, const std::vector<Problem>& problems) {
  std::string msg = path + ": " + std::to_string(problems.size()) +
                    (problems.size() == 1 ? " problem" : " problems") + "; the model cannot be compiled:";
  for (const Problem& p : problems) msg += "\n  layer '" + p.layer + "' (" + p.class_name + "): " + p.why;
  return msg;
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
  if (const std::string b = why_unsupported_builtin(l.class_name); !b.empty()) return b;
  return "layer class '" + l.class_name + "' is not supported by kc2cpp yet (or is a custom class)";
}

const json& layers_of(const json& cfg, const std::string& path) {
  if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array())
    throw Error(path + ": the model config has no layer list; is this a Keras model file?");
  return cfg["layers"];
}

// Every layer class, nested models included, checked before anything is lowered.
void check_classes(const json& cfg, const std::string& scope, const std::string& path, std::vector<Problem>& problems,
                   int depth = 0) {
  if (depth > kMaxDepth) throw Error(path + ": models are nested more than " + std::to_string(kMaxDepth) + " deep");
  for (const json& entry : layers_of(cfg, path)) {
    const Layer l = layer_of(entry, scope);
    if (is_model_class(l.class_name) && l.config->contains("layers"))
      check_classes(*l.config, l.name + "/", path, problems, depth + 1);
    else if (l.class_name != "InputLayer" && !find_lowering(l.class_name))
      problems.push_back({l.name, l.class_name, why_unsupported(l)});
  }
}

// ---- the walk ---------------------------------------------------------------------------------

// What one call of a layer gave: its output tensors, or nothing because a problem stopped it (its
// consumers are then skipped without a report of their own).
struct Call {
  bool failed = false;
  std::vector<int> outputs;
};

class Lowerer {
 public:
  Lowerer(const load::KerasModel& model, Context& cx, std::vector<Problem>& problems, ModelSummary* summary)
      : model_(model), cx_(cx), problems_(problems), summary_(summary) {}

  // The top-level model: its inputs become the graph's inputs, its outputs the graph's outputs.
  void top() {
    const json& root = model_.config;
    const std::string cls = string_at(root, "class_name");
    if (!is_model_class(cls))
      throw Error(model_.path + ": model class '" + cls + "' is not supported; save a Sequential or Functional model");
    if (summary_) {
      for (const json& entry : layers_of(root["config"], model_.path)) {
        const Layer l = layer_of(entry, "");
        if (cls != "Sequential" || l.class_name != "InputLayer") summary_->layers.push_back({l.name, l.class_name, {}, false, {}});
      }
    }
    const Call c = lower_model(cls, root["config"], "", nullptr, 0);
    if (!c.failed) cx_.graph().outputs = c.outputs;
    if (summary_ && cls != "Sequential") {
      // Keras's summary drops "Connected to" for a chain (one layer call per depth): several inputs
      // or outputs of several calls break that; one call's several outputs (return_state) do not.
      std::vector<Ref> outs;
      collect_refs(root["config"].value("output_layers", json::array()), outs);
      std::set<std::pair<std::string, int64_t>> output_calls;
      for (const Ref& r : outs) output_calls.insert({r.layer, r.node});
      summary_->graph |= cx_.graph().inputs.size() > 1 || output_calls.size() > 1;
    }
  }

 private:
  // A model's body. `bound`: the tensors it is called on (nested), or nullptr at the top level.
  Call lower_model(const std::string& cls, const json& cfg, const std::string& scope, const std::vector<int>* bound,
                   int depth) {
    if (depth > kMaxDepth) throw Error(model_.path + ": models are nested more than " + std::to_string(kMaxDepth) + " deep");
    if (cls == "Sequential") return sequential(cfg, scope, bound, depth);
    return functional(cfg, scope, bound, depth);
  }

  Call fail(const Layer& l, const std::string& why) {
    problems_.push_back({l.name, l.class_name, why});
    return {true, {}};
  }

  // A graph input of the top-level model, from an InputLayer (or the first layer's batch shape).
  int graph_input(const Layer& l, const json& batch_shape) {
    const ir::DType dtype = check_input_dtype(l);
    const ir::Shape shape = sample_shape(batch_shape, l);
    if (shape.empty())
      throw LayerProblem{"the input is one scalar per sample (shape ()), which kc2cpp does not support; use "
                         "Input(shape=(1,))"};
    check_shape(shape, "input");
    const int t = cx_.graph().add_tensor({l.name, shape, dtype});
    cx_.graph().inputs.push_back(t);
    record(l.name, {t}, nullptr);
    return t;
  }

  // Inspect's view of a call of a top-level layer (refs: what it read, in a Functional model).
  void record(const std::string& name, const std::vector<int>& outputs, const std::vector<std::string>* refs) {
    if (!summary_) return;
    for (LayerSummary& s : summary_->layers) {
      if (s.name != name) continue;
      if (!s.lowered && !outputs.empty()) {
        for (int t : outputs) s.output_shapes.push_back(cx_.graph().tensors[t].shape);
        s.lowered = true;
      }
      if (refs) s.inbound.insert(s.inbound.end(), refs->begin(), refs->end());
      if (refs && (refs->size() > 1 || s.inbound.size() > refs->size())) summary_->graph = true;
      return;
    }
  }

  // One call of layer `l` on `inputs`. A nested model's own problems are reported by its layers'
  // names; a LayerProblem thrown by lower_model itself is the model layer's.
  Call call(const Layer& l, const std::vector<int>& inputs, int depth, const std::vector<int>& masks = {},
            const std::vector<size_t>& mask_slots = {}) {
    try {
      for (int t : inputs)
        if (cx_.graph().tensors[t].dtype == ir::DType::I32 && l.class_name != "Embedding" && l.class_name != "NotEqual" &&
            !is_model_class(l.class_name))
          throw LayerProblem{"reads the integer input '" + cx_.graph().tensors[t].name + "'; integer inputs are "
                             "supported only as the indices of an Embedding layer that reads the input directly"};
      if (is_model_class(l.class_name)) {
        if (!masks.empty()) throw LayerProblem{"is a model called with a mask= argument, which kc2cpp does not support"};
        struct Scope {
          Context& cx;
          Scope(Context& c, const std::string& name) : cx(c) { cx.enter_model(name); }
          ~Scope() { cx.leave_model(); }
        } scope(cx_, l.keras_name);
        return lower_model(l.class_name, *l.config, l.name + "/", &inputs, depth + 1);
      }
      struct Bound {  // the bindings last for this call only
        Context& cx;
        std::vector<Context::MaskBinding> b;
        ~Bound() {
          for (auto it = b.rbegin(); it != b.rend(); ++it) cx.unbind_mask(*it);
        }
      } bound{cx_, {}};
      for (size_t i = 0; i < masks.size(); ++i) {
        const size_t slot = mask_slots[i];
        if (slot >= inputs.size())
          throw LayerProblem{"its mask= argument has an entry for input " + std::to_string(slot + 1) + " of " +
                             std::to_string(inputs.size())};
        for (size_t j = 0; j < i; ++j)
          if (inputs[mask_slots[j]] == inputs[slot])
            throw LayerProblem{"its mask= argument gives two masks to one tensor (input " + std::to_string(slot + 1) +
                               " is input " + std::to_string(mask_slots[j] + 1) + "); kc2cpp supports one"};
        bound.b.push_back(cx_.bind_mask(inputs[slot], l, masks[i]));
      }
      return {false, lower_call(cx_, l, inputs)};
    } catch (const LayerProblem& p) {
      return fail(l, p.why);
    } catch (const ir::SizeOverflow& e) {
      return fail(l, std::string(e.what()) + "; check the layer's configuration");
    } catch (const nlohmann::json::exception& e) {  // unreachable unless an access is unchecked (lower.h)
      const std::string reason = e.what();
      const size_t tag = reason.find("] ");  // "[json.exception.type_error.302] type must be ..."
      return fail(l, std::string(kUncheckedConfigAccess) + ": " + reason.substr(tag == std::string::npos ? 0 : tag + 2));
    }
  }

  Call sequential(const json& cfg, const std::string& scope, const std::vector<int>* bound, int depth) {
    const json& entries = layers_of(cfg, model_.path);
    std::vector<int> cur;
    if (bound) {
      if (bound->size() != 1)
        throw LayerProblem{"is a Sequential model, called on " + std::to_string(bound->size()) + " tensors; it takes one"};
      cur = *bound;
    }
    for (const json& entry : entries) {
      const Layer l = layer_of(entry, scope);
      if (l.class_name == "InputLayer") {
        if (!bound && cur.empty()) {
          try {
            const json* bs = batch_shape_of(*l.config);
            if (!bs) throw LayerProblem{"InputLayer has no batch_shape"};
            cur = {graph_input(l, *bs)};
          } catch (const LayerProblem& p) {
            return fail(l, p.why);
          }
        }
        continue;
      }
      if (cur.empty()) {  // no InputLayer: the first layer's batch_input_shape, or the model's build_input_shape
        const json* bs = batch_shape_of(*l.config);
        if (!bs && cfg.contains("build_input_shape")) bs = &cfg["build_input_shape"];
        if (!bs)
          throw Error(model_.path + ": the model has no input shape (it was saved before being built); build it "
                      "with an Input(...) layer and save it again");
        try {
          cur = {graph_input(l, *bs)};
        } catch (const LayerProblem& p) {
          return fail(l, p.why);
        }
      }
      if (cur.size() != 1)
        return fail(l, "follows a layer that gives " + std::to_string(cur.size()) + " tensors; in a Sequential "
                       "model only the last layer may");
      const Call c = call(l, cur, depth);
      if (c.failed) return c;  // later shapes are unknown
      if (depth == 0) record(l.name, c.outputs, nullptr);
      cur = c.outputs;
    }
    if (cur.empty()) throw Error(model_.path + ": the model has no layers");
    return {false, cur};
  }

  Call functional(const json& cfg, const std::string& scope, const std::vector<int>* bound, int depth) {
    const json& entries = layers_of(cfg, model_.path);
    std::map<std::string, size_t> index;  // layer name -> entry
    std::vector<Layer> ls;
    for (const json& entry : entries) {
      ls.push_back(layer_of(entry, scope));
      if (ls.back().keras_name.empty())
        throw Error(model_.path + ": layer " + std::to_string(ls.size()) + " of the model config (" +
                    ls.back().class_name + ") has no name string; the file is damaged or not written by Keras");
      if (!index.emplace(ls.back().keras_name, ls.size() - 1).second)
        throw Error(model_.path + ": the model config names two layers '" + ls.back().name + "'");
    }
    std::vector<std::vector<Call>> calls(ls.size());  // per layer, per node
    std::vector<Ref> ins, outs;
    try {
      collect_refs(cfg.value("input_layers", json::array()), ins);
      collect_refs(cfg.value("output_layers", json::array()), outs);
    } catch (const LayerProblem& p) {
      throw Error(model_.path + ": " + p.why);
    }
    if (bound && bound->size() != ins.size())
      throw LayerProblem{"is a model with " + std::to_string(ins.size()) + " inputs, called on " +
                         std::to_string(bound->size()) + " tensors"};
    for (size_t k = 0; k < ins.size(); ++k) {
      auto it = index.find(ins[k].layer);
      if (it == index.end() || ls[it->second].class_name != "InputLayer")
        throw Error(model_.path + ": the model's input '" + ins[k].layer + "' is not an InputLayer of the model");
      const Layer& l = ls[it->second];
      int t = -1;
      if (bound) {
        t = (*bound)[k];
      } else {
        try {
          const json* bs = batch_shape_of(*l.config);
          if (!bs) throw LayerProblem{"InputLayer has no batch_shape"};
          t = graph_input(l, *bs);
        } catch (const LayerProblem& p) {
          calls[it->second] = {fail(l, p.why)};
          continue;
        }
      }
      calls[it->second] = {{false, {t}}};
    }
    walk(entries, ls, index, calls, depth);
    Call result;
    for (const Ref& r : outs) {
      const int t = resolve(r, ls, index, calls, true, result.failed);
      if (t >= 0) result.outputs.push_back(t);
    }
    if (!result.failed && result.outputs.empty()) throw Error(model_.path + ": the model has no outputs");
    return result;
  }

  // Lowers every call of every layer once its inputs exist, sweeping the layers in config order
  // (Keras writes them in an order where one sweep nearly always suffices).
  void walk(const json& entries, const std::vector<Layer>& ls, const std::map<std::string, size_t>& index,
            std::vector<std::vector<Call>>& calls, int depth) {
    std::vector<std::vector<CallRefs>> pending(ls.size());  // per layer, per node: its refs
    size_t todo = 0;
    for (size_t i = 0; i < ls.size(); ++i) {
      if (ls[i].class_name == "InputLayer") continue;
      const json& nodes = nodes_of(entries[i]);
      if (!nodes.is_array()) {
        calls[i] = {fail(ls[i], "inbound_nodes is not a list")};
        continue;
      }
      for (const json& node : nodes) {
        try {
          pending[i].push_back(call_refs(node));
        } catch (const LayerProblem& p) {
          pending[i].clear();
          calls[i] = {fail(ls[i], p.why)};
          break;
        }
      }
      todo += pending[i].size();
    }
    for (bool progress = true; todo > 0 && progress;) {
      progress = false;
      for (size_t i = 0; i < ls.size(); ++i) {
        while (calls[i].size() < pending[i].size()) {
          const CallRefs& cr = pending[i][calls[i].size()];
          const std::vector<Ref>& refs = cr.refs;
          if (!ready(refs, ls, index, calls)) break;
          bool failed = false;
          std::vector<int> inputs;
          std::vector<std::string> names;  // Keras's "Connected to": layer[call][tensor] (the mask= too)
          for (const Ref& r : refs) {
            inputs.push_back(resolve(r, ls, index, calls, false, failed));
            names.push_back(r.layer + "[" + std::to_string(call_index(r, ls, index, false)) + "][" +
                            std::to_string(r.tensor) + "]");
          }
          const size_t n_masks = cr.mask_slots.size();
          const std::vector<int> masks(inputs.end() - static_cast<std::ptrdiff_t>(n_masks), inputs.end());
          inputs.resize(inputs.size() - n_masks);
          Layer l = ls[i];
          l.call = &nodes_of(entries[i])[calls[i].size()];
          calls[i].push_back(failed ? Call{true, {}} : call(l, inputs, depth, masks, cr.mask_slots));
          if (depth == 0) record(ls[i].name, calls[i].back().outputs, &names);
          --todo, progress = true;
        }
      }
    }
    for (size_t i = 0; i < ls.size() && todo > 0; ++i)
      if (calls[i].size() < pending[i].size()) {
        const std::vector<Ref>& refs = pending[i][calls[i].size()].refs;
        const Ref& r = *std::find_if(refs.begin(), refs.end(), [&](const Ref& x) { return !find_call(x, ls, index, calls, false); });
        auto it = index.find(r.layer);
        if (it != index.end() && ls[it->second].class_name == "InputLayer")
          throw Error(model_.path + ": layer '" + ls[i].name + "' reads InputLayer '" + r.layer + "', which is not "
                      "one of the model's inputs (input_layers); the config is inconsistent");
        throw Error(model_.path + ": layer '" + ls[i].name + "' waits for '" + r.layer + "' (node " +
                    std::to_string(r.node) + "), which never comes: the layer graph has a cycle or refers to a "
                    "layer call that is not in the file");
      }
  }

  // The call a reference means. Keras numbers the calls of a layer from 0, except that tf.keras 2
  // gives a nested model a node 0 of its own (its construction), so its calls count from 1 there,
  // and Keras 3 does the same in input_layers/output_layers (`endpoint`).
  int64_t call_index(const Ref& r, const std::vector<Layer>& ls, const std::map<std::string, size_t>& index,
                     bool endpoint) const {
    auto it = index.find(r.layer);
    const bool offset = it != index.end() && is_model_class(ls[it->second].class_name) &&
                        (cx_.keras_major() == 2 || endpoint) && r.node > 0;
    return offset ? r.node - 1 : r.node;
  }

  const Call* find_call(const Ref& r, const std::vector<Layer>& ls, const std::map<std::string, size_t>& index,
                        const std::vector<std::vector<Call>>& calls, bool endpoint) const {
    auto it = index.find(r.layer);
    if (it == index.end()) return nullptr;
    const int64_t node = call_index(r, ls, index, endpoint);
    const std::vector<Call>& c = calls[it->second];
    return node >= 0 && node < static_cast<int64_t>(c.size()) ? &c[node] : nullptr;
  }

  bool ready(const std::vector<Ref>& refs, const std::vector<Layer>& ls, const std::map<std::string, size_t>& index,
             const std::vector<std::vector<Call>>& calls) const {
    for (const Ref& r : refs)
      if (!find_call(r, ls, index, calls, false)) return false;
    return true;
  }

  // The tensor a reference names; -1 (and failed = true) when its producer failed.
  int resolve(const Ref& r, const std::vector<Layer>& ls, const std::map<std::string, size_t>& index,
              const std::vector<std::vector<Call>>& calls, bool endpoint, bool& failed) const {
    const Call* c = find_call(r, ls, index, calls, endpoint);
    if (!c) throw Error(model_.path + ": the config refers to call " + std::to_string(r.node) + " of layer '" +
                        r.layer + "', which the model does not have");
    if (c->failed) {
      failed = true;
      return -1;
    }
    if (r.tensor < 0 || r.tensor >= static_cast<int64_t>(c->outputs.size()))
      throw Error(model_.path + ": the config refers to output " + std::to_string(r.tensor) + " of layer '" + r.layer +
                  "', which gives " + std::to_string(c->outputs.size()));
    return c->outputs[r.tensor];
  }

  const load::KerasModel& model_;
  Context& cx_;
  std::vector<Problem>& problems_;
  ModelSummary* summary_;
};

}  // namespace

ir::Graph lower(const load::KerasModel& model, ModelSummary* summary) {
  if (!model.config.is_object() || !model.config.contains("config") || !model.config["config"].is_object())
    throw Error(model.path + ": the model config has no 'config' object; is this a Keras model file?");
  std::vector<Problem> problems;
  check_classes(model.config["config"], "", model.path, problems);
  if (!problems.empty()) throw Error(report(model.path, problems));

  ir::Graph g;
  const json& name = model.config["config"].value("name", json("model"));
  g.name = name.is_string() ? name.get<std::string>() : "model";
  g.keras_version = model.keras_version;
  g.source = model.path;
  g.backend = model.backend;
  Context cx(model, g);
  Lowerer(model, cx, problems, summary).top();
  if (!problems.empty()) throw Error(report(model.path, problems));
  if (g.inputs.empty()) throw Error(model.path + ": the model has no inputs");
  return g;
}

}  // namespace kc2cpp::lower
