// Keras 3's mask operations. A Keras 3 Functional model saves the masks its layers compute as
// operation entries (keras.src.ops: not_equal, any, expand_dims, zeros_like, ones_like, logical_or,
// logical_and) and hands the result to the layers that use a mask as their `mask=` argument
// (lower.cpp binds it to the call's input: Context::bind_mask). A boolean is a float here: 1 for
// true, 0 for false, so every op below is exact.
#include <limits>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

// The call's positional arguments that are not tensors (Keras 3 keeps numbers in "args").
const json* extra_argument(const Layer& layer, size_t index) {
  if (!layer.call || !layer.call->is_object()) return nullptr;
  auto args = layer.call->find("args");
  if (args == layer.call->end() || !args->is_array() || args->size() <= index) return nullptr;
  return &(*args)[index];
}

void need_one(const Layer& layer, const std::vector<int>& inputs) {
  if (inputs.size() != 1)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; " + layer.class_name + " takes one"};
}

// keep = x != value per element (features 1), or per row of `features` (any of them).
int not_equal(Context& cx, const Layer& layer, int x, float value, int64_t features, ir::Shape out) {
  ir::MaskAttrs a;
  a.value = value;
  a.features = features;
  return cx.add_op(layer, a, x, std::move(out));
}


// The reduced axis of any/all: only the last (the features of a [T, features] mask).
bool last_axis_only(const json& cfg, size_t rank) {
  auto it = cfg.find("axis");
  if (it == cfg.end() || !it->is_number_integer()) return false;
  return normalize_axis(it->get<int64_t>(), rank) == static_cast<int>(rank) - 1 && !get_bool(cfg, "keepdims", false);
}

}  // namespace

int ones_per_row(Context& cx, const Layer& layer, int x, int64_t features, ir::Shape out) {
  return not_equal(cx, layer, x, std::numeric_limits<float>::quiet_NaN(), features, std::move(out));
}

std::vector<int> lower_mask_op(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  if (cx.keras_major() < 3) throw LayerProblem{"is a Keras 3 operation in a tf.keras 2 file; the file is inconsistent"};
  const std::string& c = layer.class_name;
  const ir::Shape in = inputs.empty() ? ir::Shape{} : cx.shape_of(inputs[0]);
  if (c == "LogicalOr" || c == "LogicalAnd") {  // max / min of 0/1 values, numpy broadcasting
    Layer as = layer;
    as.class_name = c == "LogicalOr" ? "Maximum" : "Minimum";
    as.call = nullptr;
    if (inputs.size() != 2) throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; it takes two"};
    return lower_merge(cx, as, inputs);
  }
  need_one(layer, inputs);
  if (c == "NotEqual") {
    const json* v = extra_argument(layer, 1);
    if (!v || !v->is_number() || v->is_boolean())
      throw LayerProblem{"compares with something other than a number; only not_equal(x, number) is supported"};
    return {not_equal(cx, layer, inputs[0], config_float(*v, "the number argument"), 1, in)};
  }
  if (c == "Any") {
    if (in.size() < 2 || !last_axis_only(*layer.config, in.size()))
      throw LayerProblem{"reduces another axis than the last one, or keeps it; only any(x, axis=-1) is supported"};
    return {not_equal(cx, layer, inputs[0], 0.0f, in.back(), ir::Shape(in.begin(), in.end() - 1))};
  }
  if (c == "ExpandDims") {
    const int64_t axis = get_int(*layer.config, "axis");
    ir::Shape out = in;
    const int64_t rank = static_cast<int64_t>(in.size()) + 1;
    const int64_t a = axis < 0 ? axis + rank : axis - 1;  // Keras counts the batch axis
    if (a < 0 || a >= rank) throw LayerProblem{"axis " + std::to_string(axis) + " is out of range"};
    out.insert(out.begin() + a, 1);
    return {cx.add_op(layer, ir::ReshapeAttrs{}, inputs[0], out)};
  }
  if (c == "OnesLike") return {ones_per_row(cx, layer, inputs[0], 1, in)};
  if (c == "ZerosLike")
    return {cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Subtract, 1.0f, true}, ones_per_row(cx, layer, inputs[0], 1, in),
                      in)};
  throw LayerProblem{"operation '" + c + "' is not supported"};
}

}  // namespace kc2cpp::lower
