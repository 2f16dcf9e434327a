// What every layer lowering function sees: the layer, the graph being built, and the
// problem list. Layer families live in layers_*.cpp and register in registry.cpp.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/ir.h"
#include "load/keras_model.h"

namespace kc2cpp::lower {

using json = nlohmann::json;

struct Layer {
  std::string name;
  std::string class_name;
  std::string registered_name;  // Keras 3: "package>Name" for custom classes, else empty
  const json* config = nullptr; // the layer's "config" object
};

// Thrown by lowering functions for a problem confined to one layer; the driver records it
// and goes on with the next layer where it can.
struct LayerProblem {
  std::string why;
};

class Context {
 public:
  Context(const load::KerasModel& model, ir::Graph& graph) : model_(model), graph_(graph) {}

  ir::Graph& graph() { return graph_; }
  const load::KerasModel& model() const { return model_; }
  int keras_major() const;  // 2 or 3 (from the file's keras_version)

  // The layer's weights, checked: exactly `count` arrays (throws LayerProblem otherwise).
  const std::vector<load::NamedArray>& weights(const Layer& layer, size_t count) const;
  // Checks an array's shape against what the config implies (throws LayerProblem).
  static void expect_shape(const load::NamedArray& a, const ir::Shape& want, const char* what);

  int add_weight(const Layer& layer, const load::NamedArray& a, ir::Shape shape);
  int add_weight(const Layer& layer, const load::NamedArray& a) { return add_weight(layer, a, a.shape); }
  int add_op(const Layer& layer, ir::OpAttrs attrs, int input, ir::Shape out_shape);
  const ir::Shape& shape_of(int tensor) const { return graph_.tensors.at(tensor).shape; }

 private:
  const load::KerasModel& model_;
  ir::Graph& graph_;
};

// Config access with LayerProblem on missing/mistyped keys.
const json& require(const json& cfg, const char* key);
int64_t get_int(const json& cfg, const char* key);
float get_float(const json& cfg, const char* key, float fallback);
bool get_bool(const json& cfg, const char* key, bool fallback);
// A negative axis counts from the end of a per-sample shape of `rank` dims (Keras axes count
// the batch dimension: axis 1 is per-sample axis 0). Returns the per-sample axis.
int normalize_axis(int64_t keras_axis, size_t rank);

// Keras activation config value (string, or Keras 3 {"class_name": "function", "config": "relu"})
// -> an elementwise activation, or softmax/log_softmax reported through `softmax`.
struct ParsedActivation {
  ir::Activation act;
  bool softmax = false, log_softmax = false;
};
ParsedActivation parse_activation(const json& value, int keras_major);
// Adds the op(s) applying `p` to tensor `t` (none for linear) and returns the result tensor.
int apply_activation(Context& cx, const Layer& layer, const ParsedActivation& p, int t);

// A lowering function: adds ops for one layer with one input tensor, returns its output tensor.
using LowerFn = int (*)(Context&, const Layer&, int input);
// nullptr if the class is not supported.
LowerFn find_lowering(const std::string& class_name);

}  // namespace kc2cpp::lower
