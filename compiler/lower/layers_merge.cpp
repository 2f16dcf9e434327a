// The merge family: Keras layers that read several tensors (Add, Subtract, Multiply, Average,
// Maximum, Minimum, Concatenate, Dot). Shapes follow Keras: elementwise merges broadcast like
// numpy, Concatenate needs equal shapes except on its axis, Dot contracts one axis of each input.
#include <algorithm>
#include <numeric>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

std::string shapes_of(const Context& cx, const std::vector<int>& inputs) {
  std::string s;
  for (int t : inputs) s += (s.empty() ? "" : " and ") + ir::to_string(cx.shape_of(t));
  return s;
}

// The numpy broadcast of per-sample shapes a and b, aligned at their last axis.
bool broadcast(const ir::Shape& a, const ir::Shape& b, ir::Shape& out) {
  const size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i < a.size() ? a[a.size() - 1 - i] : 1, y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return false;
    out[r - 1 - i] = std::max(x, y);
  }
  return true;
}

ir::MergeKind merge_kind(const std::string& cls) {
  using K = ir::MergeKind;
  if (cls == "Add") return K::Add;
  if (cls == "Subtract") return K::Subtract;
  if (cls == "Multiply") return K::Multiply;
  if (cls == "Average") return K::Average;
  if (cls == "Maximum") return K::Maximum;
  if (cls == "Divide" || cls == "TrueDivide") return K::Divide;
  return K::Minimum;
}

// A Keras 3 operation on a tensor and a number (`x + 3.0`): its call's args are [tensor, number]
// or [number, tensor]. Sets c and c_first; false for any other call.
bool number_argument(const Layer& layer, float& c, bool& c_first) {
  if (!layer.call || !layer.call->is_object()) return false;
  auto args = layer.call->find("args");
  if (args == layer.call->end() || !args->is_array() || args->size() != 2) return false;
  for (size_t k = 0; k < 2; ++k) {
    const json& v = (*args)[k];
    if (v.is_number() && !v.is_boolean()) {
      c = config_float(v, "the number argument");
      c_first = k == 0;
      return true;
    }
  }
  return false;
}

int add_multi_op(Context& cx, const Layer& layer, ir::OpAttrs attrs, const std::vector<int>& inputs,
                 ir::Shape shape) {
  const int out = cx.add_op(layer, std::move(attrs), inputs[0], std::move(shape));
  cx.graph().ops.back().inputs = inputs;
  return out;
}

void need_at_least(const Layer& layer, const std::vector<int>& inputs, size_t n) {
  if (inputs.size() < n)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensor(s); a " + layer.class_name +
                       " layer needs at least " + std::to_string(n)};
}

// Keras's axis (counting the batch axis; negative from the end) -> per-sample axis of a rank-`rank` shape.
int per_sample_axis(const json& v, size_t rank, const char* what) {
  if (!v.is_number_integer()) throw LayerProblem{std::string(what) + " is not an integer"};
  return normalize_axis(v.get<int64_t>(), rank);
}

}  // namespace

std::vector<int> lower_merge(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const ir::MergeKind kind = merge_kind(layer.class_name);
  float c = 0.0f;
  bool c_first = false;
  if (inputs.size() == 1 && kind != ir::MergeKind::Average && number_argument(layer, c, c_first))
    return {cx.add_op(layer, ir::ScalarOpAttrs{kind, c, c_first}, inputs[0], cx.shape_of(inputs[0]))};
  need_at_least(layer, inputs, 2);
  if (kind == ir::MergeKind::Divide && inputs.size() != 2)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; a division takes two"};
  if (kind == ir::MergeKind::Subtract && inputs.size() != 2)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; Subtract takes exactly two"};
  ir::Shape shape = cx.shape_of(inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i) {
    ir::Shape next;
    if (!broadcast(shape, cx.shape_of(inputs[i]), next))
      throw LayerProblem{"cannot broadcast the input shapes " + shapes_of(cx, inputs) +
                         " together (each axis must be equal or 1)"};
    shape = next;
  }
  return {add_multi_op(cx, layer, ir::MergeAttrs{kind, {}}, inputs, shape)};
}

// tf.keras 2's TFOpLambda for arithmetic on a tensor and a number (`x + 3.0` in MobileNetV3): the
// function's name in the config, the number as the keyword argument y of the call.
std::vector<int> lower_tf_op(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  static const std::pair<const char*, ir::MergeKind> kOps[] = {
      {"__operators__.add", ir::MergeKind::Add}, {"math.add", ir::MergeKind::Add},
      {"math.subtract", ir::MergeKind::Subtract}, {"math.multiply", ir::MergeKind::Multiply},
      {"math.truediv", ir::MergeKind::Divide}, {"math.divide", ir::MergeKind::Divide},
      {"math.maximum", ir::MergeKind::Maximum}, {"math.minimum", ir::MergeKind::Minimum}};
  const json& fn = require(*layer.config, "function");
  const std::string name = fn.is_string() ? fn.get<std::string>() : fn.dump();
  const auto* op = std::find_if(std::begin(kOps), std::end(kOps), [&](const auto& o) { return name == o.first; });
  const json* entry = layer.call && layer.call->is_array() && !layer.call->empty() && (*layer.call)[0].is_array()
                          ? &(*layer.call)[0] : layer.call;
  const json* y = nullptr;
  if (entry && entry->is_array() && entry->size() > 3 && (*entry)[3].is_object() && (*entry)[3].contains("y"))
    y = &(*entry)[3]["y"];
  if (op == std::end(kOps) || inputs.size() != 1 || !y || !y->is_number())
    throw LayerProblem{"TensorFlow operation 'tf." + name + "' is not supported (tf.keras 2 arithmetic of a tensor and "
                       "a number is: add, subtract, multiply, truediv, maximum, minimum); use Keras layers instead"};
  return {cx.add_op(layer, ir::ScalarOpAttrs{op->second, config_float(*y, "'y'"), false}, inputs[0],
                    cx.shape_of(inputs[0]))};
}

std::vector<int> lower_concatenate(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  need_at_least(layer, inputs, 1);
  const ir::Shape& first = cx.shape_of(inputs[0]);
  const int axis = per_sample_axis(layer.config->value("axis", json(-1)), first.size(), "axis");
  ir::Shape shape = first;
  shape[axis] = 0;
  for (int t : inputs) {
    const ir::Shape& s = cx.shape_of(t);
    bool fits = s.size() == first.size();
    for (size_t d = 0; fits && d < s.size(); ++d) fits = static_cast<int>(d) == axis || s[d] == first[d];
    if (!fits)
      throw LayerProblem{"the input shapes " + shapes_of(cx, inputs) + " differ on an axis other than the "
                         "concatenation axis " + std::to_string(axis + 1)};
    shape[axis] += s[axis];
  }
  if (inputs.size() == 1) return {cx.add_op(layer, ir::ReshapeAttrs{}, inputs[0], shape)};
  return {add_multi_op(cx, layer, ir::ConcatAttrs{axis}, inputs, shape)};
}

namespace {

// Moves per-sample axis `axis` of tensor t to the end (a Permute op unless it is there already).
int contraction_last(Context& cx, const Layer& layer, int t, int axis) {
  const ir::Shape in = cx.shape_of(t);
  if (axis == static_cast<int>(in.size()) - 1) return t;
  std::vector<int> perm;
  for (int d = 0; d < static_cast<int>(in.size()); ++d)
    if (d != axis) perm.push_back(d);
  perm.push_back(axis);
  return cx.add_op(layer, make_permute(in, perm), t, permuted(in, perm));
}

}  // namespace

// Dot: Keras's batch_dot. Each input's contraction axis moves to its last axis ([m][k] and [n][k]);
// with normalize=True both are L2-normalised along it first; then y[i, j] = sum_k a[i, k] b[j, k].
// The output shape is x's other axes followed by y's, or (1,) if there are none.
std::vector<int> lower_dot(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  if (inputs.size() != 2)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; Dot takes exactly two"};
  const ir::Shape sx = cx.shape_of(inputs[0]), sy = cx.shape_of(inputs[1]);
  const json& axes = require(*layer.config, "axes");
  int ax, ay;
  if (axes.is_array()) {
    if (axes.size() != 2) throw LayerProblem{"axes " + axes.dump() + " is not one axis or a pair"};
    ax = per_sample_axis(axes[0], sx.size(), "axes[0]");
    ay = per_sample_axis(axes[1], sy.size(), "axes[1]");
  } else {
    ax = per_sample_axis(axes, sx.size(), "axes");
    ay = per_sample_axis(axes, sy.size(), "axes");
  }
  if (sx[ax] != sy[ay])
    throw LayerProblem{"the contracted axes differ in size: " + std::to_string(sx[ax]) + " (axis " +
                       std::to_string(ax + 1) + " of " + ir::to_string(sx) + ") and " + std::to_string(sy[ay]) +
                       " (axis " + std::to_string(ay + 1) + " of " + ir::to_string(sy) + ")"};
  int a = contraction_last(cx, layer, inputs[0], ax);
  int b = contraction_last(cx, layer, inputs[1], ay);
  const int64_t k = sx[ax];
  ir::Shape out;
  for (size_t d = 0; d < sx.size(); ++d)
    if (static_cast<int>(d) != ax) out.push_back(sx[d]);
  for (size_t d = 0; d < sy.size(); ++d)
    if (static_cast<int>(d) != ay) out.push_back(sy[d]);
  if (out.empty()) out.push_back(1);
  const int64_t m = ir::num_elements(cx.shape_of(a)) / k, n = ir::num_elements(cx.shape_of(b)) / k;
  if (get_bool(*layer.config, "normalize", false)) {
    const float floor = cx.keras_major() == 2 ? 1e-12f : 1e-14f;  // see ir::L2NormalizeAttrs
    a = cx.add_op(layer, ir::L2NormalizeAttrs{m, k, floor}, a, cx.shape_of(a));
    b = cx.add_op(layer, ir::L2NormalizeAttrs{n, k, floor}, b, cx.shape_of(b));
  }
  ir::MatMulAttrs mm;
  mm.m = m, mm.k = k, mm.n = n;
  return {add_multi_op(cx, layer, mm, {a, b}, out)};
}

}  // namespace kc2cpp::lower
