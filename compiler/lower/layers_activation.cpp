// Activation layers: ReLU, LeakyReLU, ELU, PReLU, Softmax.
#include "lower/layers.h"

#include <limits>

namespace kc2cpp::lower {

static int elementwise(Context& cx, const Layer& layer, int input, ir::Activation a) {
  return cx.add_op(layer, ir::ActivationAttrs{a}, input, cx.shape_of(input));
}

int lower_relu(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  ir::Activation a;
  a.kind = ir::ActKind::Relu;
  a.a = get_float(cfg, "negative_slope", 0.0f);
  a.b = get_float(cfg, "max_value", std::numeric_limits<float>::infinity());
  a.c = get_float(cfg, "threshold", 0.0f);
  if (a.b < 0) throw LayerProblem{"max_value must be >= 0"};
  return elementwise(cx, layer, input, a);
}

int lower_leaky_relu(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  ir::Activation a;
  a.kind = ir::ActKind::Relu;
  // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
  a.a = get_float(cfg, cfg.contains("negative_slope") ? "negative_slope" : "alpha", 0.3f);
  return elementwise(cx, layer, input, a);
}

int lower_elu(Context& cx, const Layer& layer, int input) {
  ir::Activation a;
  a.kind = ir::ActKind::Elu;
  a.a = get_float(*layer.config, "alpha", 1.0f);
  return elementwise(cx, layer, input, a);
}

int lower_prelu(Context& cx, const Layer& layer, int input) {
  const ir::Shape shape = cx.shape_of(input);
  ir::Shape alpha_shape = shape;
  auto it = layer.config->find("shared_axes");
  if (it != layer.config->end() && !it->is_null()) {
    const json axes = it->is_array() ? *it : json::array({*it});
    for (const json& ax : axes) {
      if (!ax.is_number_integer()) throw LayerProblem{"shared_axes holds a non-integer"};
      alpha_shape[normalize_axis(ax.get<int64_t>(), shape.size())] = 1;
    }
  }
  const auto& w = cx.weights(layer, 1);
  Context::expect_shape(w[0], alpha_shape, "alpha");
  // Broadcast the shared axes at compile time: the op sees one alpha per element.
  // Broadcast weights come from the config, not the file: a small file must not make a huge .cpp.
  constexpr int64_t kMaxBroadcast = int64_t{1} << 24;
  if (ir::num_elements(shape) > kMaxBroadcast)
    throw LayerProblem{"its alpha, broadcast to the input shape " + ir::to_string(shape) + ", would be " +
                       std::to_string(ir::num_elements(shape)) + " floats, more than kc2cpp computes (2^24); "
                       "share more axes (shared_axes) or use a smaller input"};
  cx.check_weight_budget(ir::num_elements(shape));
  load::NamedArray full;
  full.name = w[0].name;
  full.shape = shape;
  full.data.resize(static_cast<size_t>(ir::num_elements(shape)));
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t flat = 0; flat < full.data.size(); ++flat) {
    int64_t src = 0;
    for (size_t d = 0; d < shape.size(); ++d) src = src * alpha_shape[d] + (alpha_shape[d] == 1 ? 0 : idx[d]);
    full.data[flat] = w[0].data[static_cast<size_t>(src)];
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return cx.add_op(layer, ir::PReluAttrs{cx.add_weight(layer, full)}, input, shape);
}

int lower_softmax(Context& cx, const Layer& layer, int input) {
  const ir::Shape shape = cx.shape_of(input);
  json axis = layer.config->value("axis", json(-1));
  if (axis.is_array()) {
    if (axis.size() != 1) throw LayerProblem{"softmax over several axes is not supported yet"};
    axis = axis[0];
  }
  if (!axis.is_number_integer()) throw LayerProblem{"axis is not an integer"};
  return cx.add_op(layer, ir::SoftmaxAttrs{normalize_axis(axis.get<int64_t>(), shape.size()), false}, input, shape);
}

}  // namespace kc2cpp::lower
