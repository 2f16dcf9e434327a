// Core layers: Dense, EinsumDense, Activation, the inference-time identities, Flatten, Reshape.
#include <map>

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

namespace {

// One einsum operand's axis letters, with "..." expanded to `fill` (the letters Keras's ellipsis
// stands for, leading).
std::string expand_ellipsis(const std::string& spec, const std::string& fill) {
  const size_t at = spec.find("...");
  return at == std::string::npos ? spec : spec.substr(0, at) + fill + spec.substr(at + 3);
}

}  // namespace

// EinsumDense(equation "IN,KERNEL->OUT"): the input's axes that the kernel contracts are moved
// last, in IN's order (a Permute when needed), the kernel rearranged to [contracted][new] (new: the
// kernel's axes that OUT keeps, in OUT's order), one Dense over the contracted elements (its
// reduction order, its bias: bias_axes must be among the new axes), the result viewed as
// [kept input axes][new axes] and moved into OUT's order. Letters of OUT that are neither kept
// input axes nor kernel axes, input axes that are only summed, and axes shared by the input, the
// kernel and the output are refused, as are LoRA and quantized layers.
int lower_einsum_dense(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const std::string eq = require(cfg, "equation").is_string() ? cfg["equation"].get<std::string>() : "";
  const size_t comma = eq.find(','), arrow = eq.find("->");
  if (comma == std::string::npos || arrow == std::string::npos || arrow < comma)
    throw LayerProblem{"equation '" + eq + "' is not of the form 'in,kernel->out'"};
  if (cfg.contains("lora_rank") && !cfg["lora_rank"].is_null() && cfg["lora_rank"] != 0)
    throw LayerProblem{"LoRA (lora_rank) is not supported"};
  if (cfg.contains("quantization_config") && !cfg["quantization_config"].is_null())
    throw LayerProblem{"quantized layers are not supported"};
  const ir::Shape in_shape = cx.shape_of(input);
  std::string in = eq.substr(0, comma), ker = eq.substr(comma + 1, arrow - comma - 1), out = eq.substr(arrow + 2);
  // "..." stands for the leading axes the input's letters do not name (the batch axis included).
  const int64_t named = static_cast<int64_t>(in.size()) - (in.find("...") != std::string::npos ? 3 : 0);
  const int64_t rank = static_cast<int64_t>(in_shape.size()) + 1;  // with the batch axis
  if (in.find("...") != std::string::npos) {
    if (rank < named) throw LayerProblem{"equation '" + eq + "' names more axes than the input has"};
    std::string fill;
    for (int64_t i = 0; i < rank - named; ++i) fill += static_cast<char>('A' + i);  // einsum letters are lower case
    in = expand_ellipsis(in, fill), out = expand_ellipsis(out, fill);
  }
  if (static_cast<int64_t>(in.size()) != rank || ker.find("...") != std::string::npos || out.find("...") != std::string::npos)
    throw LayerProblem{"equation '" + eq + "' does not fit inputs of shape " + ir::to_string(in_shape)};
  if (out.empty() || in[0] != out[0]) throw LayerProblem{"equation '" + eq + "': the batch axis must lead IN and OUT"};
  const auto has = [](const std::string& s, char c) { return s.find(c) != std::string::npos; };
  std::map<char, int64_t> size;
  for (size_t i = 1; i < in.size(); ++i) size[in[i]] = in_shape[i - 1];
  std::string kept, contracted, fresh;  // kept: input axes OUT keeps; fresh: kernel axes OUT keeps
  for (size_t i = 1; i < in.size(); ++i) {
    const char c = in[i];
    if (has(ker, c) && has(out, c)) throw LayerProblem{"equation '" + eq + "': axis " + c + " is in the input, the kernel and the output"};
    if (has(ker, c)) contracted += c;
    else if (has(out, c)) kept += c;
    else throw LayerProblem{"equation '" + eq + "': input axis " + c + " is summed without a kernel axis"};
  }
  for (size_t i = 1; i < out.size(); ++i)
    if (!has(in, out[i])) {
      if (!has(ker, out[i])) throw LayerProblem{"equation '" + eq + "': output axis " + out[i] + " comes from nowhere"};
      fresh += out[i];
    }
  for (char c : ker)
    if (!has(in, c) && !has(out, c)) throw LayerProblem{"equation '" + eq + "': kernel axis " + c + " is summed alone"};
  const std::string bias_axes = cfg.value("bias_axes", json(nullptr)).is_string() ? cfg["bias_axes"].get<std::string>() : "";
  const auto& w = cx.weights(layer, bias_axes.empty() ? 1 : 2);
  const load::NamedArray& kernel = w[0];
  if (kernel.shape.size() != ker.size())
    throw LayerProblem{"kernel '" + kernel.name + "' has rank " + std::to_string(kernel.shape.size()) + ", the equation " +
                       std::to_string(ker.size())};
  for (size_t i = 0; i < ker.size(); ++i) {
    if (size.count(ker[i]) && size[ker[i]] != kernel.shape[i])
      throw LayerProblem{"kernel '" + kernel.name + "' axis " + ker[i] + " holds " + std::to_string(kernel.shape[i]) +
                         ", the input " + std::to_string(size[ker[i]])};
    size[ker[i]] = kernel.shape[i];
  }
  const auto product_of = [&](const std::string& letters) {
    int64_t n = 1;
    for (char c : letters) n *= size[c];
    return n;
  };
  const int64_t k = product_of(contracted), units = product_of(fresh);
  // Kernel [contracted][fresh], both in their strings' orders, from Keras's layout (KERNEL's order).
  std::vector<int64_t> stride(ker.size());
  for (size_t i = ker.size(), st = 1; i-- > 0;) stride[i] = static_cast<int64_t>(st), st *= static_cast<size_t>(kernel.shape[i]);
  const auto offset = [&](const std::string& letters, int64_t index) {  // index over `letters` -> kernel offset
    int64_t off = 0;
    for (size_t i = letters.size(); i-- > 0;) {
      off += (index % size[letters[i]]) * stride[ker.find(letters[i])];
      index /= size[letters[i]];
    }
    return off;
  };
  std::vector<float> kdata(static_cast<size_t>(k * units));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = 0; j < units; ++j)
      kdata[static_cast<size_t>(r * units + j)] = kernel.data[static_cast<size_t>(offset(contracted, r) + offset(fresh, j))];
  ir::DenseAttrs d;
  d.units = units;
  d.kernel = cx.add_param(layer, "kernel", std::move(kdata), {k, units});
  if (!bias_axes.empty()) {
    // Keras's bias covers OUT from its first bias letter on: the size of each bias letter, 1 elsewhere.
    size_t first = out.size();
    for (char c : bias_axes) first = std::min(first, out.find(c));
    const std::string spec = out.substr(first);
    ir::Shape bshape;
    for (char c : spec) {
      if (has(bias_axes, c) && !has(fresh, c))
        throw LayerProblem{"bias_axes '" + bias_axes + "': axis " + c + " is not a kernel axis; not supported"};
      bshape.push_back(has(bias_axes, c) ? size[c] : 1);
    }
    Context::expect_shape(w[1], bshape, "bias");
    std::vector<float> bias(static_cast<size_t>(units));
    for (int64_t j = 0; j < units; ++j) {
      int64_t rest = j, at = 0, st = 1;
      std::map<char, int64_t> coord;
      for (size_t i = fresh.size(); i-- > 0;) coord[fresh[i]] = rest % size[fresh[i]], rest /= size[fresh[i]];
      for (size_t i = spec.size(); i-- > 0;) at += (has(bias_axes, spec[i]) ? coord[spec[i]] : 0) * st, st *= bshape[i];
      bias[static_cast<size_t>(j)] = w[1].data[static_cast<size_t>(at)];
    }
    d.bias = cx.add_param(layer, "bias", std::move(bias));
  }
  const ParsedActivation act = parse_activation(cfg.value("activation", json("linear")), cx.keras_major());
  d.act = act.act;
  // Input: kept axes, then the contracted ones (a Permute unless already so), viewed as [kept..., k].
  std::vector<int> perm;
  for (char c : kept + contracted) perm.push_back(static_cast<int>(in.find(c)) - 1);
  int t = input;
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int>(i);
  if (!identity) t = cx.add_op(layer, make_permute(in_shape, perm), t, permuted(in_shape, perm));
  ir::Shape view;
  for (char c : kept) view.push_back(size[c]);
  view.push_back(k);
  if (view != cx.shape_of(t)) t = cx.add_op(layer, ir::ReshapeAttrs{}, t, view);
  view.back() = units;
  t = cx.add_op(layer, d, t, view);
  // Output: [kept..., fresh...] moved into OUT's order.
  const std::string have = kept + fresh;
  ir::Shape full;
  for (char c : have) full.push_back(size[c]);
  if (full != view) t = cx.add_op(layer, ir::ReshapeAttrs{}, t, full);
  std::vector<int> back;
  for (size_t i = 1; i < out.size(); ++i) back.push_back(static_cast<int>(have.find(out[i])));
  bool in_order = true;
  for (size_t i = 0; i < back.size(); ++i) in_order = in_order && back[i] == static_cast<int>(i);
  if (!in_order) t = cx.add_op(layer, make_permute(full, back), t, permuted(full, back));
  ParsedActivation rest;
  rest.softmax = act.softmax;
  rest.log_softmax = act.log_softmax;
  return apply_activation(cx, layer, rest, t);
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
      known = ir::checked_mul(known, std::min(v, ir::kMaxElements + 1));  // both <= 2^30 + 1: no overflow
      if (known > ir::kMaxElements) throw LayerProblem{"target_shape " + target.dump() + " is too large"};
    }
  }
  if (unknown >= 0 && total % known == 0) shape[unknown] = total / known;
  if (ir::num_elements(shape) != total)
    throw LayerProblem{"target_shape " + target.dump() + " does not hold the " + std::to_string(total) +
                       " elements of the input"};
  return cx.add_op(layer, ir::ReshapeAttrs{}, input, shape);
}

}  // namespace kc2cpp::lower
