// Core layers: Dense, Activation, the inference-time identities, Flatten, Reshape.
#include "lower/layers.h"

namespace kc2cpp::lower {

int lower_dense(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const int64_t units = get_int(cfg, "units");
  if (units <= 0) throw LayerProblem{"units must be positive"};
  const bool use_bias = get_bool(cfg, "use_bias", true);
  const ParsedActivation act = parse_activation(cfg.value("activation", json("linear")), cx.keras_major());
  ir::Shape shape = cx.shape_of(input);
  const int64_t in = shape.back();

  const auto& w = cx.weights(layer, use_bias ? 2 : 1);
  Context::expect_shape(w[0], {in, units}, "kernel");
  ir::DenseAttrs attrs;
  attrs.units = units;
  attrs.kernel = cx.add_weight(layer, w[0]);
  if (use_bias) {
    Context::expect_shape(w[1], {units}, "bias");
    attrs.bias = cx.add_weight(layer, w[1]);
  }
  attrs.act = act.act;
  shape.back() = units;
  const int out = cx.add_op(layer, attrs, input, shape);
  ParsedActivation rest;  // the elementwise part is fused into the Dense already
  rest.softmax = act.softmax;
  rest.log_softmax = act.log_softmax;
  return apply_activation(cx, layer, rest, out);
}

int lower_activation(Context& cx, const Layer& layer, int input) {
  const int out = apply_activation(cx, layer, parse_activation(require(*layer.config, "activation"), cx.keras_major()),
                                   input);
  // Activation('linear') computes nothing, but the layer still has an output (inspect shows it).
  return out == input ? lower_identity(cx, layer, input) : out;
}

int lower_identity(Context& cx, const Layer& layer, int input) {
  return cx.add_op(layer, ir::IdentityAttrs{}, input, cx.shape_of(input));
}

static void require_channels_last(const json& cfg) {
  auto it = cfg.find("data_format");
  if (it != cfg.end() && it->is_string() && it->get<std::string>() == "channels_first")
    throw LayerProblem{"data_format='channels_first' is not supported; rebuild the model channels_last"};
}

int lower_flatten(Context& cx, const Layer& layer, int input) {
  require_channels_last(*layer.config);
  return cx.add_op(layer, ir::ReshapeAttrs{}, input, {ir::num_elements(cx.shape_of(input))});
}

int lower_reshape(Context& cx, const Layer& layer, int input) {
  const json& target = require(*layer.config, "target_shape");
  if (!target.is_array()) throw LayerProblem{"target_shape is not a list"};
  const int64_t total = ir::num_elements(cx.shape_of(input));
  ir::Shape shape;
  int unknown = -1;
  int64_t known = 1;
  for (const json& d : target) {
    const int64_t v = d.is_number_integer() ? d.get<int64_t>() : -1;
    if (v == -1 || d.is_null()) {
      if (unknown >= 0) throw LayerProblem{"target_shape has more than one unknown dimension"};
      unknown = static_cast<int>(shape.size());
      shape.push_back(1);
    } else if (v <= 0) {
      throw LayerProblem{"target_shape has a non-positive dimension"};
    } else {
      shape.push_back(v);
      if (v > ir::kMaxElements / known) throw LayerProblem{"target_shape " + target.dump() + " is too large"};
      known *= v;
    }
  }
  if (unknown >= 0 && total % known == 0) shape[unknown] = total / known;
  if (ir::num_elements(shape) != total)
    throw LayerProblem{"target_shape " + target.dump() + " does not hold the " + std::to_string(total) +
                       " elements of the input"};
  return cx.add_op(layer, ir::ReshapeAttrs{}, input, shape);
}

}  // namespace kc2cpp::lower
