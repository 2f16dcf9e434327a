// The merge family: Keras layers that read several tensors (Add, Subtract, Multiply, Average,
// Maximum, Minimum, Concatenate, Dot, and Attention/AdditiveAttention built from the same ops). Shapes follow Keras: elementwise merges broadcast like
// numpy, Concatenate needs equal shapes except on its axis, Dot contracts one axis of each input.
#include <algorithm>
#include <cmath>
#include <limits>
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
    shape[axis] = ir::checked_add(shape[axis], s[axis]);
  }
  if (inputs.size() == 1) return {cx.add_op(layer, ir::ReshapeAttrs{}, inputs[0], shape)};
  return {add_multi_op(cx, layer, ir::ConcatAttrs{axis}, inputs, shape)};
}

// Keras's merge masks, for masks over the time axis of [T, features] inputs:
//   Add, Subtract, Multiply, Average, Maximum, Minimum: Keras 3 (Merge.compute_mask) gives no mask
//     if any input has none, else the OR of the masks; tf.keras 2 the AND of the masks there are.
//   Concatenate on the feature axis: any (Keras 3) / all (tf.keras 2) of the masks broadcast over the
//     features and concatenated, an unmasked input counting as ones: Keras 3 the OR of the masks (none
//     if an input has none: every step kept), tf.keras 2 the AND of the masks there are.
//   Concatenate on the time axis: the masks concatenated, ones for an unmasked input.
// Anything else (Dot, inputs of another rank or length) gives a mask kc2cpp does not compute.
void combine_masks(Context& cx, const Layer& layer, const std::vector<int>& inputs, int out) {
  bool all = true, rank2 = true;
  std::vector<int> masked;
  for (int t : inputs) {
    rank2 = rank2 && cx.shape_of(t).size() == 2;
    if (cx.has_mask(t)) masked.push_back(t);
    else all = false;
  }
  const bool concat = layer.class_name == "Concatenate";
  if (layer.class_name == "Dot" || !rank2)
    return cx.set_unknown_mask(out, "layer '" + layer.name + "' combines masks of inputs other than [T, features]");
  if (concat && per_sample_axis(layer.config->value("axis", json(-1)), 2, "axis") == 0)
    return cx.set_combined_mask(out, layer, Context::Combine::Concat, inputs);
  for (int t : inputs)
    if (cx.shape_of(t)[0] != cx.shape_of(out)[0])
      return cx.set_unknown_mask(out, "layer '" + layer.name + "' combines masks of sequences of different lengths");
  if (cx.keras_major() >= 3) {
    if (all) cx.set_combined_mask(out, layer, Context::Combine::Or, inputs);
    return;
  }
  if (masked.size() == 1) return cx.copy_mask(masked[0], out);
  cx.set_combined_mask(out, layer, Context::Combine::And, masked);
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


namespace {

// A call's keyword argument that is not a tensor (`use_causal_mask=True`): Keras 3 keeps it in the
// call's "kwargs", tf.keras 2 in each inbound entry's fourth element. `fallback` when absent.
bool call_flag(const Layer& layer, const char* key, bool fallback) {
  if (!layer.call) return fallback;
  const auto flag = [&](const json& kwargs, bool& out) {
    auto it = kwargs.is_object() ? kwargs.find(key) : kwargs.end();
    if (it == kwargs.end() || it->is_null()) return false;
    if (!it->is_boolean()) throw LayerProblem{std::string("call argument ") + key + " is not true or false"};
    out = it->get<bool>();
    return true;
  };
  bool v = fallback;
  if (layer.call->is_object() && layer.call->contains("kwargs")) {
    flag((*layer.call)["kwargs"], v);
  } else if (layer.call->is_array()) {
    for (const json& e : *layer.call)
      if (e.is_array() && e.size() > 3 && flag(e[3], v)) break;
  }
  return v;
}

// a * b with numpy broadcasting: of two 0/1 masks, their AND (exact).
int mask_product(Context& cx, const Layer& layer, int a, int b) {
  ir::Shape out;
  broadcast(cx.shape_of(a), cx.shape_of(b), out);
  return add_multi_op(cx, layer, ir::MergeAttrs{ir::MergeKind::Multiply, {}}, {a, b}, out);
}

// An attention mask m over (query, key) pairs ([Tq, 1], [1, Tv] or [Tq, Tv], 0/1) broadcast to
// [Tq, Tv] and ANDed with the causal matrix C[i][j] = (j <= i), which comes from the ops themselves:
// the causal softmax of the broadcast m (0/1 values, so every kept weight is at least exp(-1) / Tv > 0
// and every hidden one exactly 0), compared with 0.
int and_causal(Context& cx, const Layer& layer, int m, int q, int v) {
  const int64_t tq = cx.shape_of(q)[0], tv = cx.shape_of(v)[0];
  if (cx.shape_of(m)[1] != tv) m = mask_product(cx, layer, m, ones_per_row(cx, layer, v, cx.shape_of(v)[1], {1, tv}));
  if (cx.shape_of(m)[0] != tq) m = mask_product(cx, layer, m, ones_per_row(cx, layer, q, cx.shape_of(q)[1], {tq, 1}));
  ir::SoftmaxAttrs soft;
  soft.axis = 1;
  soft.causal_rows = tq;
  const int w = cx.add_op(layer, soft, m, {tq, tv});
  return mask_product(cx, layer, m, cx.add_op(layer, ir::MaskAttrs{ir::MaskForm::Compute, 0.0f, 1}, w, {tq, tv}));
}

// Whether the call passes a tensor (not null) by keyword `key` (Keras 3: its "kwargs"; tf.keras 2:
// an inbound entry's fourth element).
bool call_tensor(const Layer& layer, const char* key) {
  if (!layer.call) return false;
  const auto has = [&](const json& kwargs) {
    auto it = kwargs.is_object() ? kwargs.find(key) : kwargs.end();
    return it != kwargs.end() && !it->is_null();
  };
  if (layer.call->is_object()) return layer.call->contains("kwargs") && has((*layer.call)["kwargs"]);
  if (layer.call->is_array())
    for (const json& e : *layer.call)
      if (e.is_array() && e.size() > 3 && has(e[3])) return true;
  return false;
}

float scalar_weight(const load::NamedArray& a) {
  if (a.data.size() != 1)
    throw LayerProblem{"weight '" + a.name + "' holds " + std::to_string(a.data.size()) + " values, not one"};
  return a.data[0];
}

}  // namespace

namespace {

// sum_d scale_d * tanh(pre * (query_i + key_j)) for every (i, j): query (Tq, dim) and key (Tv, dim)
// broadcast to (Tq, Tv, dim) by an Add, times `pre` when given, tanh, then a Dense of one unit with
// the kernel `scale` (ones when empty): the products rounded, the sum in the Dense order.
int tanh_scores(Context& cx, const Layer& layer, int q, int k, const float* pre, std::vector<float> scale) {
  const ir::Shape sq = cx.shape_of(q), sk = cx.shape_of(k);
  const int64_t tq = sq[0], tv = sk[0], dim = sq[1];
  const int q3 = cx.add_op(layer, ir::ReshapeAttrs{}, q, {tq, 1, dim});
  const int k3 = cx.add_op(layer, ir::ReshapeAttrs{}, k, {1, tv, dim});
  int s = add_multi_op(cx, layer, ir::MergeAttrs{ir::MergeKind::Add, {}}, {q3, k3}, {tq, tv, dim});
  if (pre) s = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Multiply, *pre, true}, s, {tq, tv, dim});
  ir::ActivationAttrs tanh;
  tanh.act.kind = ir::ActKind::Tanh;
  s = cx.add_op(layer, tanh, s, {tq, tv, dim});
  if (scale.empty()) scale.assign(static_cast<size_t>(dim), 1.0f);
  ir::DenseAttrs sum;
  sum.units = 1;
  sum.kernel = cx.add_param(layer, "scale", std::move(scale), {dim, 1});
  s = cx.add_op(layer, sum, s, {tq, tv, 1});
  return cx.add_op(layer, ir::ReshapeAttrs{}, s, {tq, tv});
}

// The common part of Attention and AdditiveAttention: the inputs [query, value(, key)] checked;
// `scores(q, k)` gives the (Tq, Tv) scores; weights = softmax(scores) over the last axis; output =
// weights . value (a MatMul with value moved to (dv, Tv)), and the weights as a second output with
// return_attention_scores=True. Dropout is inactive at inference. use_causal_mask=True (tf.keras 2's
// older config `causal`) masks the scores in the softmax (SoftmaxAttrs::causal_rows). Keras masks (both
// Keras versions alike): the value's mask M ([1, Tv]; and_causal with use_causal_mask) gives
// scores - 1e9 * (1 - M) before the softmax, the query's mask multiplies the output's rows, and the
// output carries the query's mask. A mask= argument ([query_mask, value_mask] tensors, e.g. model
// inputs) replaces the inputs' Keras masks for the call, as in Keras; the value's counts as a bool
// (nonzero keeps a step), the query's multiplies the rows as it is (Keras casts it to float).
template <class Scores>
std::vector<int> attend(Context& cx, const Layer& layer, const std::vector<int>& inputs, Scores scores) {
  if (inputs.size() != 2 && inputs.size() != 3)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; " + layer.class_name +
                       " takes [query, value] or [query, value, key]"};
  const int q = inputs[0], v = inputs[1], k = inputs.size() == 3 ? inputs[2] : inputs[1];
  const ir::Shape sq = cx.shape_of(q), sv = cx.shape_of(v), sk = cx.shape_of(k);
  if (sq.size() != 2 || sv.size() != 2 || sk.size() != 2 || sq[1] != sk[1] || sv[0] != sk[0])
    throw LayerProblem{"expects query (Tq, dim), value (Tv, dv) and key (Tv, dim), got " + shapes_of(cx, inputs)};
  const bool causal = call_flag(layer, "use_causal_mask", false) || get_bool(*layer.config, "causal", false);
  const int64_t tq = sq[0], tv = sv[0], dv = sv[1];
  // Keras: logical_not(v_mask), so any nonzero value (a mask= tensor of floats) keeps a step.
  int mask = cx.has_mask(v) ? cx.add_op(layer, ir::MaskAttrs{ir::MaskForm::Compute, 0.0f, 1}, cx.mask_of(v), {1, tv}) : -1;
  if (mask >= 0 && causal) mask = and_causal(cx, layer, mask, q, v);
  ir::SoftmaxAttrs softmax;
  softmax.axis = 1;
  softmax.causal_rows = causal && mask < 0 ? tq : 0;
  int s = scores(q, k);
  if (mask >= 0) {  // s - 1e9 * (1 - M)
    const ir::Shape ms = cx.shape_of(mask);
    const int pad = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Subtract, 1.0f, true}, mask, ms);
    const int big = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Multiply, 1.0e9f, true}, pad, ms);
    s = add_multi_op(cx, layer, ir::MergeAttrs{ir::MergeKind::Subtract, {}}, {s, big}, {tq, tv});
  }
  const int weights = cx.add_op(layer, softmax, s, {tq, tv});
  const int vt = cx.add_op(layer, make_permute(sv, {1, 0}), v, {dv, tv});
  ir::MatMulAttrs mm;
  mm.m = tq, mm.k = tv, mm.n = dv;
  int out = add_multi_op(cx, layer, mm, {weights, vt}, {tq, dv});
  if (cx.has_mask(q)) out = mask_product(cx, layer, out, cx.mask_of(q));
  cx.copy_mask(q, out);
  if (call_flag(layer, "return_attention_scores", false)) return {out, weights};
  return {out};
}

}  // namespace

// Attention, as Keras computes its scores: score_mode="dot": query . key^T (a MatMul: each score in
// the Dense reduction order), times the scalar `scale` when use_scale; "concat":
// concat_score_weight * sum_d tanh(scale * (query_i + key_j)) (tanh_scores; no scale factor without
// use_scale). Then attend().
std::vector<int> lower_attention(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const json& cfg = *layer.config;
  const std::string mode = get_string(cfg, "score_mode", "dot");
  if (mode != "dot" && mode != "concat") throw LayerProblem{"score_mode '" + mode + "' is not dot or concat"};
  const bool use_scale = get_bool(cfg, "use_scale", false), concat = mode == "concat";
  const auto& w = cx.weights(layer, (use_scale ? 1 : 0) + (concat ? 1 : 0));
  const float scale = use_scale ? scalar_weight(w[0]) : 1.0f;
  return attend(cx, layer, inputs, [&](int q, int k) {
    const int64_t tq = cx.shape_of(q)[0], tv = cx.shape_of(k)[0];
    const ir::MergeKind mul = ir::MergeKind::Multiply;
    if (concat) {
      const int s = tanh_scores(cx, layer, q, k, use_scale ? &scale : nullptr, {});
      return cx.add_op(layer, ir::ScalarOpAttrs{mul, scalar_weight(w[use_scale ? 1 : 0]), true}, s, {tq, tv});
    }
    ir::MatMulAttrs mm;
    mm.m = tq, mm.k = cx.shape_of(q)[1], mm.n = tv;
    const int s = add_multi_op(cx, layer, mm, {q, k}, {tq, tv});
    return use_scale ? cx.add_op(layer, ir::ScalarOpAttrs{mul, scale, false}, s, {tq, tv}) : s;
  });
}

// AdditiveAttention: scores sum_d scale_d * tanh(query_i + key_j) (the vector `scale` when
// use_scale, else ones), then attend().
std::vector<int> lower_additive_attention(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const bool use_scale = get_bool(*layer.config, "use_scale", true);
  const auto& w = cx.weights(layer, use_scale ? 1 : 0);
  return attend(cx, layer, inputs, [&](int q, int k) {
    std::vector<float> scale;
    if (use_scale) {
      const int64_t dim = cx.shape_of(q)[1];
      if (ir::num_elements(w[0].shape) != dim)
        throw LayerProblem{"scale '" + w[0].name + "' holds " + std::to_string(ir::num_elements(w[0].shape)) +
                           " values, not the " + std::to_string(dim) + " of the query's last axis"};
      scale = w[0].data;
    }
    return tanh_scores(cx, layer, q, k, nullptr, std::move(scale));
  });
}

namespace {

// MultiHeadAttention's sublayer array `part` ("query/kernel", "attention_output/bias", ...) among the
// layer's weights, found by name (Keras 3 and tf.keras 2 file them in different orders).
const load::NamedArray& mha_array(const std::vector<load::NamedArray>& w, const std::string& part) {
  for (const load::NamedArray& a : w)
    if (a.name.find(part) != std::string::npos) return a;
  throw LayerProblem{"has no weight '" + part + "' in the file"};
}

// A projection of MultiHeadAttention (Keras's EinsumDense "abc,cde->abde" or "abcd,cde->abe"): a
// Dense on x viewed as [rows][k] with the kernel (its Keras shape flattened to [k][units], the same
// memory) and the bias flattened to [units].
int mha_dense(Context& cx, const Layer& layer, int x, const std::vector<load::NamedArray>& w, const std::string& part,
              bool use_bias, int64_t rows, int64_t k, int64_t units) {
  const load::NamedArray& kernel = mha_array(w, part + "/kernel");
  if (ir::num_elements(kernel.shape) != k * units)
    throw LayerProblem{"kernel '" + kernel.name + "' holds " + std::to_string(ir::num_elements(kernel.shape)) +
                       " values, not " + std::to_string(k) + " x " + std::to_string(units)};
  ir::DenseAttrs d;
  d.units = units;
  d.kernel = cx.add_weight(layer, kernel, {k, units});
  if (use_bias) {
    const load::NamedArray& bias = mha_array(w, part + "/bias");
    if (ir::num_elements(bias.shape) != units) throw LayerProblem{"bias '" + bias.name + "' does not hold " + std::to_string(units) + " values"};
    d.bias = cx.add_weight(layer, bias, {units});
  }
  if (cx.shape_of(x) != ir::Shape{rows, k}) x = cx.add_op(layer, ir::ReshapeAttrs{}, x, {rows, k});
  return cx.add_op(layer, d, x, {rows, units});
}

}  // namespace

namespace {

// The score Keras 3's dot_product_attention puts where the mask hides one (jax.nn's and Keras's own:
// -0.7 times float32's largest value, computed in double and rounded to float32).
const float kMaskedLogit = static_cast<float>(-0.7 * static_cast<double>(std::numeric_limits<float>::max()));

// MultiHeadAttention's attention mask from its attention_mask tensor ([Tq, Tv], any nonzero value
// true), the Keras masks of query ([Tq, 1]), value and key (each [Tv, 1]) and use_causal_mask, as
// Keras ANDs them: M = am[i][j] * q_mask[i] * v_mask[j] * k_mask[j] (0/1 products, exact; broadcast,
// so [Tq, 1], [1, Tv] or [Tq, Tv]), and_causal when causal. -1 if there is neither attention_mask
// nor Keras mask (the causal mask alone stays in the softmax: SoftmaxAttrs::causal_rows).
int mha_mask(Context& cx, const Layer& layer, int q, int v, int k, int attention_mask, bool causal) {
  std::vector<int> parts;
  if (attention_mask >= 0) {  // Keras casts it to bool: nonzero (NaN too) is true
    const ir::Shape want = {cx.shape_of(q)[0], cx.shape_of(v)[0]};
    if (cx.shape_of(attention_mask) != want)
      throw LayerProblem{"its attention_mask has shape " + ir::to_string(cx.shape_of(attention_mask)) +
                         "; kc2cpp supports one of shape " + ir::to_string(want) + " (query steps, value steps)"};
    parts.push_back(cx.add_op(layer, ir::MaskAttrs{ir::MaskForm::Compute, 0.0f, 1}, attention_mask, want));
  }
  if (cx.has_mask(q)) parts.push_back(cx.mask_of(q));
  for (int t : {v, k})
    if (cx.has_mask(t) && (t == v || k != v)) {
      const int m = cx.mask_of(t);
      parts.push_back(cx.add_op(layer, ir::ReshapeAttrs{}, m, {1, cx.shape_of(m)[0]}));
    }
  if (parts.empty()) return -1;
  int m = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) m = mask_product(cx, layer, m, parts[i]);
  return causal ? and_causal(cx, layer, m, q, v) : m;
}

}  // namespace

// MultiHeadAttention on query (Tq, dq), value (Tv, dv) and key (Tv, dk; the value when not given),
// as Keras computes it: q, k, v projected per head (EinsumDense "abc,cde->abde": a Dense into
// heads * key_dim, or heads * value_dim), q multiplied by float32(1 / sqrt(key_dim)), the scores
// q_h . k_h^T of every head (a MatMul batched over the heads, [heads][Tq][Tv]), softmax over Tv,
// the heads' outputs scores_h . v_h, and the output projection ("abcd,cde->abe": a Dense from
// heads * value_dim). The default attention_axes only; use_causal_mask=True masks the scores in the
// softmax (SoftmaxAttrs::causal_rows). Keras masks on query, value and key (Embedding(mask_zero=True),
// Masking) give the attention mask M (mha_mask), applied to the scores s (broadcast over the heads)
// the way the Keras version that saved the file does:
//   tf.keras 2 (its Softmax layer): s + (1 - M) * -1e9, softmax (a fully masked row is the softmax
//     of its shifted scores);
//   Keras 3 with return_attention_scores or dropout (its Softmax layer): the same, then the weights
//     times M (a fully masked row is zeros);
//   Keras 3 otherwise (ops.dot_product_attention: jnp.where(M, s, -0.7 * FLT_MAX)): s * M +
//     (1 - M) * kMaskedLogit, the same values for finite s, softmax (a fully masked row is uniform).
// An attention_mask tensor (Keras's bool (B, Tq, Tv); here any nonzero value keeps a pair) joins M.
// The output carries the query's mask. Keras 3 also removes the masks of the tensors it reads, so a
// later reader of those masks is refused (which Keras 3 runs first is not in the file). Dropout is
// inactive; return_attention_scores=True adds the scores (heads, Tq, Tv) as a second output.
std::vector<int> lower_multi_head_attention(Context& cx, const Layer& layer, const std::vector<int>& inputs) {
  const size_t am = call_tensor(layer, "attention_mask") ? 1 : 0;  // lower.cpp puts it after query, value, key
  if (inputs.size() != 2 + am && inputs.size() != 3 + am)
    throw LayerProblem{"is called on " + std::to_string(inputs.size()) + " tensors; MultiHeadAttention takes query, "
                       "value, an optional key and an optional attention_mask"};
  const json& cfg = *layer.config;
  const int q = inputs[0], v = inputs[1], k = inputs.size() == 3 + am ? inputs[2] : inputs[1];
  const ir::Shape sq = cx.shape_of(q), sv = cx.shape_of(v), sk = cx.shape_of(k);
  if (sq.size() != 2 || sv.size() != 2 || sk.size() != 2 || sv[0] != sk[0])
    throw LayerProblem{"expects query (Tq, dq), value (Tv, dv) and key (Tv, dk), got " + shapes_of(cx, inputs)};
  // The default attends over the sequence axis, which Keras 3 saves resolved: [1] (or -2).
  const json& axes = cfg.value("attention_axes", json(nullptr));
  const json& axis = axes.is_array() && axes.size() == 1 ? axes[0] : axes;
  if (!axes.is_null() && !(axis.is_number_integer() && (axis.get<int64_t>() == 1 || axis.get<int64_t>() == -2)))
    throw LayerProblem{"attention_axes " + axes.dump() + " is not supported (only the sequence axis, the default)"};
  const bool causal = call_flag(layer, "use_causal_mask", false);
  const int64_t heads = get_int(cfg, "num_heads"), kd = get_int(cfg, "key_dim");
  const json& vdim = cfg.value("value_dim", json(nullptr));
  const int64_t vd = vdim.is_null() ? kd : get_int(cfg, "value_dim");
  if (heads <= 0 || kd <= 0 || vd <= 0) throw LayerProblem{"num_heads, key_dim and value_dim must be positive"};
  int64_t out_dim = sq[1];
  const json& os = cfg.value("output_shape", json(nullptr));
  if (os.is_number_integer()) out_dim = os.get<int64_t>();
  else if (os.is_array() && os.size() == 1 && os[0].is_number_integer()) out_dim = os[0].get<int64_t>();
  else if (!os.is_null()) throw LayerProblem{"output_shape " + os.dump() + " is not one size"};
  const bool use_bias = get_bool(cfg, "use_bias", true);
  const auto& w = cx.weights(layer, use_bias ? 8 : 4);
  const int64_t tq = sq[0], tv = sv[0];
  int qp = mha_dense(cx, layer, q, w, "query", use_bias, tq, sq[1], heads * kd);
  const int kp = mha_dense(cx, layer, k, w, "key", use_bias, tv, sk[1], heads * kd);
  const int vp = mha_dense(cx, layer, v, w, "value", use_bias, tv, sv[1], heads * vd);
  const float inv_sqrt = static_cast<float>(1.0 / std::sqrt(static_cast<double>(kd)));
  qp = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Multiply, inv_sqrt, false}, qp, {tq, heads * kd});
  // [T][heads][d] -> [heads][T][d] (q, k) and [heads][vd][Tv] (v: its contraction axis Tv last).
  const ir::Shape q3 = {tq, heads, kd}, k3 = {tv, heads, kd}, v3 = {tv, heads, vd};
  const int qh = cx.add_op(layer, make_permute(q3, {1, 0, 2}), cx.add_op(layer, ir::ReshapeAttrs{}, qp, q3), {heads, tq, kd});
  const int kh = cx.add_op(layer, make_permute(k3, {1, 0, 2}), cx.add_op(layer, ir::ReshapeAttrs{}, kp, k3), {heads, tv, kd});
  const int vh = cx.add_op(layer, make_permute(v3, {1, 2, 0}), cx.add_op(layer, ir::ReshapeAttrs{}, vp, v3), {heads, vd, tv});
  ir::MatMulAttrs scores;
  scores.batch = heads, scores.m = tq, scores.k = kd, scores.n = tv;
  if (cx.keras_major() >= 3)
    for (int t : {q, v, k})
      if (cx.mask_read(t))
        throw LayerProblem{"reads a tensor whose Keras mask another layer reads too; Keras 3's MultiHeadAttention "
                           "removes that mask when it runs, so what the other layer sees depends on Keras's "
                           "execution order: give one of them a tensor of its own (e.g. through a Dense)"};
  const int mask = mha_mask(cx, layer, q, v, k, am ? inputs.back() : -1, causal);
  ir::SoftmaxAttrs softmax;
  softmax.axis = 2;
  softmax.causal_rows = causal && mask < 0 ? tq : 0;
  int s = add_multi_op(cx, layer, scores, {qh, kh}, {heads, tq, tv});
  const bool scores_out = call_flag(layer, "return_attention_scores", false);
  const bool fused = cx.keras_major() >= 3 && !scores_out && get_float(cfg, "dropout", 0.0f) == 0.0f;
  if (mask >= 0) {
    const ir::Shape ms = cx.shape_of(mask), ss = {heads, tq, tv};
    const auto merge = [&](ir::MergeKind kind, int a, int b) {
      return add_multi_op(cx, layer, ir::MergeAttrs{kind, {}}, {a, b}, ss);
    };
    const int inv = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Subtract, 1.0f, true}, mask, ms);
    const float fill = fused ? kMaskedLogit : ir::kCausalMaskAdd;
    const int add = cx.add_op(layer, ir::ScalarOpAttrs{ir::MergeKind::Multiply, fill, false}, inv, ms);
    s = merge(ir::MergeKind::Add, fused ? merge(ir::MergeKind::Multiply, s, mask) : s, add);
  }
  int weights = cx.add_op(layer, softmax, s, {heads, tq, tv});
  if (mask >= 0 && cx.keras_major() >= 3 && !fused)
    weights = add_multi_op(cx, layer, ir::MergeAttrs{ir::MergeKind::Multiply, {}}, {weights, mask}, {heads, tq, tv});
  ir::MatMulAttrs combine;
  combine.batch = heads, combine.m = tq, combine.k = tv, combine.n = vd;
  int o = add_multi_op(cx, layer, combine, {weights, vh}, {heads, tq, vd});
  o = cx.add_op(layer, make_permute({heads, tq, vd}, {1, 0, 2}), o, {tq, heads, vd});
  const int out = mha_dense(cx, layer, o, w, "attention_output", use_bias, tq, heads * vd, out_dim);
  cx.copy_mask(q, out);
  if (cx.keras_major() >= 3)  // Keras 3's call() removes the masks from its input tensors (set_keras_mask(x, None))
    for (int t : {q, v, k})
      if (cx.has_mask(t))
        cx.set_unknown_mask(t, "Keras 3's MultiHeadAttention '" + layer.name + "' removes the mask of its input when it "
                               "runs, so whether a layer that reads the same tensor sees the mask depends on Keras's "
                               "execution order; give that layer a tensor of its own (e.g. through a Dense)");
  if (scores_out) return {out, weights};
  return {out};
}

}  // namespace kc2cpp::lower
