// Convolution and pooling layers: Conv1D/2D/3D (valid/same/causal, strides, dilation, groups),
// DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1DTranspose/2DTranspose/3DTranspose, Max/AveragePooling1D/2D/3D,
// Global{Max,Average}Pooling1D/2D/3D. channels_last ops: channels_first layers run between two Permutes
// (via_channels_last). 1-D layers are the 2-D ops with H = 1.
// Every geometry (output sizes, padding offsets) is resolved here, once; the op semantics and
// their reduction order are documented in ir/ops_conv.h.
#include <algorithm>
#include <cctype>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

// 1 for the *1D classes, 2 for the *2D classes, 3 for the *3D classes (Conv3D, pooling: `three_ok`).
int spatial_rank(const Layer& layer, bool three_ok = false) {
  const std::string& c = layer.class_name;
  if (c.find("1D") != std::string::npos) return 1;
  if (c.find("2D") != std::string::npos) return 2;
  if (three_ok && c.find("3D") != std::string::npos) return 3;
  throw LayerProblem{"only 1-D and 2-D convolutions are supported"};
}

// data_format="channels_first": `fn`, the channels_last lowering of the same layer, between two
// Permutes: channels moved last, and the output's last axis moved back to the front (a global
// pooling without keepdims has no axis to move back).
int via_channels_last(Context& cx, const Layer& layer, int input, int (*fn)(Context&, const Layer&, int)) {
  json cfg = *layer.config;
  cfg["data_format"] = "channels_last";
  Layer last = layer;
  last.config = &cfg;
  const ir::Shape in = cx.shape_of(input);
  const int rank = static_cast<int>(in.size());
  std::vector<int> to_last, to_front = {rank - 1};
  for (int i = 1; i < rank; ++i) to_last.push_back(i), to_front.push_back(i - 1);
  to_last.push_back(0);
  const int t = fn(cx, last, cx.add_op(layer, make_permute(in, to_last), input, permuted(in, to_last)));
  const ir::Shape out = cx.shape_of(t);
  if (static_cast<int>(out.size()) != rank) return t;
  return cx.add_op(layer, make_permute(out, to_front), t, permuted(out, to_front));
}

// A Keras int-or-tuple option (kernel_size, strides, dilation_rate, pool_size, ...) as `rank`
// positive integers; `fallback` when the key is missing or null (if fallback > 0).
std::vector<int64_t> spatial_ints(const json& cfg, const char* key, int rank, int64_t fallback = 0) {
  auto it = cfg.find(key);
  std::vector<int64_t> v;
  if (it == cfg.end() || it->is_null()) {
    if (fallback <= 0) throw LayerProblem{std::string("config has no '") + key + "'"};
    return std::vector<int64_t>(static_cast<size_t>(rank), fallback);
  }
  if (it->is_number_integer()) {
    v.assign(static_cast<size_t>(rank), config_int(*it, std::string("'") + key + "'"));
  } else if (it->is_array() && it->size() == static_cast<size_t>(rank)) {
    for (const json& d : *it) v.push_back(config_int(d, std::string("'") + key + "'"));
  } else {
    throw LayerProblem{std::string("config '") + key + "' = " + it->dump() + " is not " + std::to_string(rank) +
                       " integer(s)"};
  }
  for (int64_t d : v)
    if (d <= 0) throw LayerProblem{std::string("config '") + key + "' = " + it->dump() + " must be positive"};
  return v;
}

std::string padding_of(const json& cfg, bool causal_ok) {
  const json& p = require(cfg, "padding");
  std::string s = p.is_string() ? p.get<std::string>() : "";
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (s == "valid" || s == "same" || (causal_ok && s == "causal")) return s;
  throw LayerProblem{"padding=" + p.dump() + " is not supported (valid, same" +
                     std::string(causal_ok ? ", causal" : "") + ")"};
}

struct Axis {
  int64_t out = 0, pad = 0;
};

// Output size and padded taps before the input along one axis (KERAS_FORMAT.md, "Padding"):
// k_eff = (k-1)d + 1; valid: (n - k_eff)/s + 1; same: ceil(n/s), before = floor(total/2) of
// total = max((out-1)s + k_eff - n, 0); causal: d(k-1) on the left, then valid.
Axis forward_axis(int64_t n, int64_t k, int64_t s, int64_t d, const std::string& padding) {
  using ir::checked_add, ir::checked_mul;
  const int64_t k_eff = checked_add(checked_mul(k - 1, d), 1);
  Axis a;
  if (padding == "same") {
    a.out = checked_add(n, s - 1) / s;
    a.pad = std::max<int64_t>(checked_add(checked_mul(a.out - 1, s), k_eff) - n, 0) / 2;
  } else {
    a.pad = padding == "causal" ? k_eff - 1 : 0;
    a.out = checked_add(n, a.pad) >= k_eff ? (n + a.pad - k_eff) / s + 1 : 0;
  }
  if (a.out <= 0)
    throw LayerProblem{"the window (" + std::to_string(k_eff) + " with dilation) is larger than the input (" +
                       std::to_string(n) + ") with padding '" + padding + "': the output would be empty"};
  return a;
}

// Conv*Transpose along one axis: output size as Keras computes it (Keras 3
// compute_conv_transpose_output_shape = tf.keras deconv_output_length) and the gather offset
// (ops_conv.h): Keras 3 (jax.lax.conv_transpose with left padding lo): k_eff - 1 - lo; tf.keras
// (the gradient of a forward convolution out -> in): that convolution's pad_before.
Axis transpose_axis(int64_t n, int64_t k, int64_t s, int64_t d, const std::string& padding, int64_t out_pad,
                    int keras_major) {
  using ir::checked_add, ir::checked_mul;
  const int64_t k_eff = checked_add(checked_mul(k - 1, d), 1);
  const bool has_op = out_pad >= 0;
  const int64_t span = checked_mul(n - 1, s);  // (n - 1) s
  Axis a;
  if (padding == "valid") {
    a.out = checked_add(checked_add(span, k_eff), has_op ? out_pad : std::max(k_eff, s) - k_eff);
    a.pad = 0;
    return a;
  }
  a.out = has_op ? checked_add(checked_add(span, k_eff % 2), out_pad) : checked_mul(n, s);
  if (keras_major >= 3) {
    const int64_t pad_len = has_op ? checked_add(k_eff + k_eff % 2 - 2, out_pad) : checked_add(s, k_eff - 2);
    const int64_t lo = std::min(pad_len / 2 + pad_len % 2, k_eff - 1);
    a.pad = k_eff - 1 - lo;
  } else {
    a.pad = std::max<int64_t>(checked_add(span, k_eff) - a.out, 0) / 2;
  }
  if (a.out <= 0) throw LayerProblem{"the output would be empty"};
  return a;
}

// The per-sample input as [H][W][C] for a layer of spatial rank 1 ([L, C]) or 2 ([H, W, C]).
ir::ConvGeom input_geom(const ir::Shape& in, int rank) {
  if (in.size() != static_cast<size_t>(rank) + 1)
    throw LayerProblem{"expects a rank-" + std::to_string(rank + 2) + " input (batch, " +
                       (rank == 1 ? "steps" : "rows, cols") + ", channels), got " + ir::to_string(in)};
  ir::ConvGeom g;
  g.in_h = rank == 2 ? in[0] : 1;
  g.in_w = in[static_cast<size_t>(rank) - 1];
  g.in_c = in.back();
  return g;
}

// Window, strides, dilation and padding of a layer, with output sizes. `window_key` is
// kernel_size or pool_size; pooling strides default (missing or null) to the pool size.
ir::ConvGeom window_geom(const Layer& layer, const ir::Shape& in, int rank, const char* window_key, bool pooling) {
  const json& cfg = *layer.config;
  ir::ConvGeom g = input_geom(in, rank);
  const std::vector<int64_t> k = spatial_ints(cfg, window_key, rank);
  const bool default_strides = pooling && (!cfg.contains("strides") || cfg["strides"].is_null());
  const std::vector<int64_t> s = default_strides ? k : spatial_ints(cfg, "strides", rank, 1);
  const std::vector<int64_t> d = pooling ? std::vector<int64_t>(static_cast<size_t>(rank), 1)
                                         : spatial_ints(cfg, "dilation_rate", rank, 1);
  g.padding = padding_of(cfg, !pooling && layer.class_name == "Conv1D");
  const size_t w = static_cast<size_t>(rank) - 1;  // index of the width axis in k/s/d
  g.k_h = rank == 2 ? k[0] : 1;
  g.k_w = k[w];
  g.stride_h = rank == 2 ? s[0] : 1;
  g.stride_w = s[w];
  g.dil_h = rank == 2 ? d[0] : 1;
  g.dil_w = d[w];
  const Axis h = forward_axis(g.in_h, g.k_h, g.stride_h, g.dil_h, rank == 2 ? g.padding : "valid");
  const Axis x = forward_axis(g.in_w, g.k_w, g.stride_w, g.dil_w, g.padding);
  g.out_h = h.out, g.pad_top = h.pad;
  g.out_w = x.out, g.pad_left = x.pad;
  return g;
}

// The output shape of a [H][W][C] result, in the layer's rank.
ir::Shape out_shape(const ir::ConvGeom& g, int rank) {
  return rank == 2 ? ir::Shape{g.out_h, g.out_w, g.out_c} : ir::Shape{g.out_w, g.out_c};
}

// A weight array with new contents (a rearranged kernel), keeping its file name for messages.
load::NamedArray with_data(const load::NamedArray& a, std::vector<float> data) {
  return load::NamedArray{a.name, a.shape, std::move(data)};
}

struct ActivationAndBias {
  ParsedActivation act;
  bool use_bias = true;
};

ActivationAndBias activation_and_bias(Context& cx, const json& cfg) {
  return {parse_activation(cfg.value("activation", json("linear")), cx.keras_major()), get_bool(cfg, "use_bias", true)};
}

// Applies what the fused epilogue does not: softmax / log_softmax.
int finish(Context& cx, const Layer& layer, const ParsedActivation& act, int out) {
  ParsedActivation rest;
  rest.softmax = act.softmax;
  rest.log_softmax = act.log_softmax;
  return apply_activation(cx, layer, rest, out);
}

ir::Shape kernel_shape(const ir::ConvGeom& g, int rank, int64_t a, int64_t b) {
  return rank == 2 ? ir::Shape{g.k_h, g.k_w, a, b} : ir::Shape{g.k_w, a, b};
}

// Depthwise part shared by DepthwiseConv and SeparableConv: RepeatChannels(m) if m > 1, then the
// depth-multiplier-1 depthwise op on C*m channels. Returns the output tensor.
int depthwise(Context& cx, const Layer& layer, int input, ir::ConvGeom g, int rank, const load::NamedArray& kernel,
              const load::NamedArray* bias, const ir::Activation& act) {
  const json& cfg = *layer.config;
  const int64_t m = cfg.contains("depth_multiplier") ? get_int(cfg, "depth_multiplier") : 1;
  if (m <= 0) throw LayerProblem{"depth_multiplier must be positive"};
  Context::expect_shape(kernel, kernel_shape(g, rank, g.in_c, m), "depthwise kernel");
  if (bias) Context::expect_shape(*bias, {g.in_c * m}, "bias");
  if (m > 1) {
    ir::Shape rep = cx.shape_of(input);
    rep.back() *= m;
    input = cx.add_op(layer, ir::RepeatChannelsAttrs{m}, input, rep);
    g.in_c *= m;
  }
  g.out_c = g.in_c;
  ir::DepthwiseConvAttrs attrs;
  attrs.geom = g;
  attrs.kernel = cx.add_weight(layer, kernel, {g.k_h * g.k_w, g.in_c});  // [kh][kw][C][m] is [kh*kw][C*m]
  if (bias) attrs.bias = cx.add_weight(layer, *bias);
  attrs.act = act;
  return cx.add_op(layer, attrs, input, out_shape(g, rank));
}

}  // namespace

// One frame's convolution (layers.h). Conv3D: DepthTaps gathers each output depth's k_d input
// slices as channels ([OD][H][W][k_d*C]), then a 2-D convolution runs on each of the OD slices with
// the kernel rearranged from Keras's [kd][kh][kw][C][F] to [kh][kw][kd*C][F] (ir/ops_conv.h).
FrameConv frame_conv(const ir::Shape& in, const ConvWindow& w, const load::NamedArray& kernel,
                     const load::NamedArray* bias, int64_t filters) {
  const size_t rank = w.k.size();
  if (in.size() != rank + 1) throw LayerProblem{"internal: convolution input " + ir::to_string(in)};
  const int64_t c = in.back();
  ir::Shape kshape(w.k.begin(), w.k.end());
  kshape.push_back(c), kshape.push_back(filters);
  Context::expect_shape(kernel, kshape, "kernel");
  if (bias) Context::expect_shape(*bias, {filters}, "bias");
  FrameConv f;
  f.kernel = kernel.data;
  f.kernel_rows = ir::num_elements(kshape) / filters;
  int64_t kd = 1;
  size_t at = 0;
  if (rank == 3) {
    const Axis depth = forward_axis(in[0], w.k[0], w.s[0], w.d[0], w.padding);
    kd = w.k[0];
    f.volume = true;
    f.taps = ir::DepthTapsAttrs{in[0], depth.out, in[1] * in[2], c, kd, w.s[0], w.d[0], depth.pad};
    const int64_t cf = c * filters, plane = w.k[1] * w.k[2];
    for (int64_t z = 0; z < kd; ++z)
      for (int64_t t = 0; t < plane; ++t)
        std::copy_n(kernel.data.begin() + (z * plane + t) * cf, cf, f.kernel.begin() + (t * kd + z) * cf);
    f.out.push_back(depth.out);
    at = 1;
  }
  ir::ConvGeom& g = f.geom;
  g.padding = w.padding;
  const size_t hw = rank == 3 ? 1 : 0;  // index of the H axis in w.k (rank 2, 3)
  g.in_h = rank == 1 ? 1 : in[at];
  g.in_w = in[at + (rank == 1 ? 0 : 1)];
  g.in_c = kd * c, g.out_c = filters;
  g.k_h = rank == 1 ? 1 : w.k[hw], g.stride_h = rank == 1 ? 1 : w.s[hw], g.dil_h = rank == 1 ? 1 : w.d[hw];
  g.k_w = w.k[rank - 1], g.stride_w = w.s[rank - 1], g.dil_w = w.d[rank - 1];
  const Axis h = forward_axis(g.in_h, g.k_h, g.stride_h, g.dil_h, rank == 1 ? "valid" : w.padding);
  const Axis x = forward_axis(g.in_w, g.k_w, g.stride_w, g.dil_w, w.padding);
  g.out_h = h.out, g.pad_top = h.pad, g.out_w = x.out, g.pad_left = x.pad;
  if (rank > 1) f.out.push_back(g.out_h);
  f.out.push_back(g.out_w), f.out.push_back(filters);
  return f;
}

// The convolution of each of `lead` consecutive slices (layers.h): frame_conv's ops, each run on
// every slice (Op::slices).
int add_conv_slices(Context& cx, const Layer& layer, int input, int64_t lead, const ConvWindow& w,
                    const load::NamedArray& kernel, const load::NamedArray* bias, int64_t filters, ir::Activation act,
                    ConvWeightIds& ids) {
  const ir::Shape in = cx.shape_of(input);
  const size_t skip = lead > 0 ? 1 : 0;
  if (in.size() < skip) throw LayerProblem{"internal: convolution input " + ir::to_string(in)};
  FrameConv f = frame_conv(ir::Shape(in.begin() + static_cast<std::ptrdiff_t>(skip), in.end()), w, kernel, bias, filters);
  ir::Shape out;
  if (lead > 0) out.push_back(lead);
  int64_t slices = std::max<int64_t>(lead, 1);
  if (f.volume) {
    ir::Shape gathered = out;
    gathered.insert(gathered.end(), {f.taps.out_d, in[skip + 1], in[skip + 2], f.geom.in_c});
    input = cx.add_op(layer, f.taps, input, gathered);
    if (lead > 0) cx.graph().ops.back().slices = lead;
    slices *= f.taps.out_d;
  }
  out.insert(out.end(), f.out.begin(), f.out.end());
  ir::ConvAttrs attrs;
  attrs.geom = f.geom;
  if (ids.kernel < 0) {
    ids.kernel = cx.add_weight(layer, with_data(kernel, std::move(f.kernel)), {f.kernel_rows, filters});
    if (bias) ids.bias = cx.add_weight(layer, *bias);
  }
  attrs.kernel = ids.kernel, attrs.bias = ids.bias;
  attrs.act = act;
  const int y = cx.add_op(layer, attrs, input, out);
  if (slices > 1) cx.graph().ops.back().slices = slices;
  return y;
}

ConvWindow conv_window(const json& cfg, int rank, bool causal_ok) {
  ConvWindow w;
  w.k = spatial_ints(cfg, "kernel_size", rank);
  w.s = spatial_ints(cfg, "strides", rank, 1);
  w.d = spatial_ints(cfg, "dilation_rate", rank, 1);
  w.padding = padding_of(cfg, causal_ok);
  return w;
}

namespace {

// The per-sample shape of a 3-D layer's input, [D][H][W][C] (LayerProblem otherwise).
ir::Shape volume_input(const Context& cx, int input) {
  const ir::Shape in = cx.shape_of(input);
  if (in.size() != 4) throw LayerProblem{"expects a rank-5 input (batch, depth, rows, cols, channels), got " + ir::to_string(in)};
  return in;
}

// The config's groups (1 when absent), checked against the input channels and filters.
int64_t conv_groups(const json& cfg, int64_t channels, int64_t filters) {
  const int64_t groups = cfg.contains("groups") ? get_int(cfg, "groups") : 1;
  if (filters <= 0 || groups <= 0) throw LayerProblem{"filters and groups must be positive"};
  if (channels % groups || filters % groups)
    throw LayerProblem{"groups=" + std::to_string(groups) + " does not divide the input channels (" +
                       std::to_string(channels) + ") and filters (" + std::to_string(filters) + ")"};
  return groups;
}

// Conv3D on [D][H][W][C] (add_conv_slices with no leading slices). groups G > 1: one convolution
// per group on its C/G input channels (a PadCrop of the channel axis) with its F/G columns of the
// kernel and bias, the results concatenated on the channel axis: every output is the same sum as
// in one grouped convolution.
int conv_3d(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape in = volume_input(cx, input);
  const ConvWindow win = conv_window(cfg, 3, false);
  const int64_t filters = get_int(cfg, "filters"), c = in[3];
  const int64_t groups = conv_groups(cfg, c, filters);
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& wt = cx.weights(layer, ab.use_bias ? 2 : 1);
  if (groups == 1) {
    ConvWeightIds ids;
    const int out =
        add_conv_slices(cx, layer, input, 0, win, wt[0], ab.use_bias ? &wt[1] : nullptr, filters, ab.act.act, ids);
    return finish(cx, layer, ab.act, out);
  }
  const int64_t cg = c / groups, fg = filters / groups, rows = ir::num_elements(wt[0].shape) / filters;
  Context::expect_shape(wt[0], {win.k[0], win.k[1], win.k[2], cg, filters}, "kernel");
  if (ab.use_bias) Context::expect_shape(wt[1], {filters}, "bias");
  std::vector<int> parts;
  for (int64_t g = 0; g < groups; ++g) {
    const int x = crop_axis(cx, layer, input, in[0] * in[1] * in[2], c, 1, g * cg, cg, {in[0], in[1], in[2], cg});
    const std::string tag = "_group" + std::to_string(g);
    load::NamedArray k{layer.name + "/kernel" + tag, {win.k[0], win.k[1], win.k[2], cg, fg}, {}}, b;
    for (int64_t r = 0; r < rows; ++r)
      k.data.insert(k.data.end(), wt[0].data.begin() + r * filters + g * fg, wt[0].data.begin() + r * filters + (g + 1) * fg);
    if (ab.use_bias)
      b = {layer.name + "/bias" + tag, {fg}, std::vector<float>(wt[1].data.begin() + g * fg, wt[1].data.begin() + (g + 1) * fg)};
    ConvWeightIds ids;
    parts.push_back(add_conv_slices(cx, layer, x, 0, win, k, ab.use_bias ? &b : nullptr, fg, ab.act.act, ids));
  }
  ir::Shape shape = cx.shape_of(parts[0]);
  shape.back() = filters;
  const int out = cx.add_op(layer, ir::ConcatAttrs{3}, parts[0], shape);
  cx.graph().ops.back().inputs = parts;
  return finish(cx, layer, ab.act, out);
}

}  // namespace

int lower_conv(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) return via_channels_last(cx, layer, input, lower_conv);
  const json& cfg = *layer.config;
  const int rank = spatial_rank(layer, true);
  if (rank == 3) return conv_3d(cx, layer, input);
  ir::ConvGeom g = window_geom(layer, cx.shape_of(input), rank, "kernel_size", false);
  const int64_t filters = get_int(cfg, "filters");
  const int64_t groups = conv_groups(cfg, g.in_c, filters);
  g.out_c = filters;
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& w = cx.weights(layer, ab.use_bias ? 2 : 1);
  const int64_t cg = g.in_c / groups, fg = filters / groups, taps = g.k_h * g.k_w;
  Context::expect_shape(w[0], kernel_shape(g, rank, cg, filters), "kernel");
  // Keras [kh][kw][C/G][F] -> [G][kh][kw][C/G][F/G]: one row per (tap, channel) of each group.
  std::vector<float> k(w[0].data.size());
  for (int64_t gr = 0; gr < groups; ++gr)
    for (int64_t r = 0; r < taps * cg; ++r)
      for (int64_t j = 0; j < fg; ++j)
        k[static_cast<size_t>((gr * taps * cg + r) * fg + j)] =
            w[0].data[static_cast<size_t>(r * filters + gr * fg + j)];
  ir::ConvAttrs attrs;
  attrs.geom = g;
  attrs.groups = groups;
  attrs.kernel = cx.add_weight(layer, with_data(w[0], std::move(k)), {groups * taps * cg, fg});
  if (ab.use_bias) {
    Context::expect_shape(w[1], {filters}, "bias");
    attrs.bias = cx.add_weight(layer, w[1]);
  }
  attrs.act = ab.act.act;
  return finish(cx, layer, ab.act, cx.add_op(layer, attrs, input, out_shape(g, rank)));
}

int lower_depthwise_conv(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) return via_channels_last(cx, layer, input, lower_depthwise_conv);
  const json& cfg = *layer.config;
  const int rank = spatial_rank(layer);
  const ir::ConvGeom g = window_geom(layer, cx.shape_of(input), rank, "kernel_size", false);
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& w = cx.weights(layer, ab.use_bias ? 2 : 1);
  const int out = depthwise(cx, layer, input, g, rank, w[0], ab.use_bias ? &w[1] : nullptr, ab.act.act);
  return finish(cx, layer, ab.act, out);
}

// SeparableConv = depthwise (no bias, linear) then a pointwise 1x1 convolution with the bias and
// the activation, which is a Dense on the last axis (DenseAttrs: its own documented order).
int lower_separable_conv(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) return via_channels_last(cx, layer, input, lower_separable_conv);
  const json& cfg = *layer.config;
  const int rank = spatial_rank(layer);
  const ir::ConvGeom g = window_geom(layer, cx.shape_of(input), rank, "kernel_size", false);
  const int64_t filters = get_int(cfg, "filters");
  if (filters <= 0) throw LayerProblem{"filters must be positive"};
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& w = cx.weights(layer, ab.use_bias ? 3 : 2);
  const int mid = depthwise(cx, layer, input, g, rank, w[0], nullptr, ir::Activation{});
  const int64_t cm = cx.shape_of(mid).back();
  Context::expect_shape(w[1], rank == 2 ? ir::Shape{1, 1, cm, filters} : ir::Shape{1, cm, filters}, "pointwise kernel");
  ir::DenseAttrs d;
  d.units = filters;
  d.kernel = cx.add_weight(layer, w[1], {cm, filters});
  if (ab.use_bias) {
    Context::expect_shape(w[2], {filters}, "bias");
    d.bias = cx.add_weight(layer, w[2]);
  }
  d.act = ab.act.act;
  ir::Shape shape = cx.shape_of(mid);
  shape.back() = filters;
  return finish(cx, layer, ab.act, cx.add_op(layer, d, mid, shape));
}

namespace {

// Conv*Transpose's output_padding per spatial axis (-1: none given).
std::vector<int64_t> output_padding(const json& cfg, int rank) {
  std::vector<int64_t> op(static_cast<size_t>(rank), -1);
  if (cfg.contains("output_padding") && !cfg["output_padding"].is_null()) {
    const json& o = cfg["output_padding"];
    if (o.is_array() && o.size() != static_cast<size_t>(rank))
      throw LayerProblem{"config 'output_padding' = " + o.dump() + " is not " + std::to_string(rank) + " integer(s)"};
    for (int i = 0; i < rank; ++i) {
      const json& v = o.is_array() ? o.at(static_cast<size_t>(i)) : o;
      op[static_cast<size_t>(i)] = config_int(v, "'output_padding'");
      if (op[static_cast<size_t>(i)] < 0) throw LayerProblem{"output_padding " + o.dump() + " is not non-negative integers"};
    }
  }
  return op;
}

// Conv3DTranspose on [D][H][W][C], from ops that exist: the input's depth slices spread s_d apart
// with zeros between (a PadCrop of [D][1][H*W*C] to [D][s_d][H*W*C]), DepthTaps gathering each output
// depth's k_d slices of that (stride 1, the depth kernel flipped: tap kd' reads the slice kd = k_d-1-kd'
// of the transposed gather, ir/ops_conv.h), then the 2-D transposed convolution on each output depth
// slice (Op::slices) with the kernel rearranged from Keras's [kd][kh][kw][F][C] to [kh][kw][kd'*C][F].
// A zero or padded depth tap adds +0 * w, which leaves the sums' bits as skipping it would for
// finite weights (as Conv3D's padded depth taps do).
int conv_transpose_3d(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape in = volume_input(cx, input);
  const ConvWindow w = conv_window(cfg, 3, false);
  const std::vector<int64_t> op = output_padding(cfg, 3);
  const int64_t filters = get_int(cfg, "filters"), c = in[3], plane = in[1] * in[2];
  if (filters <= 0) throw LayerProblem{"filters must be positive"};
  const Axis depth = transpose_axis(in[0], w.k[0], w.s[0], w.d[0], w.padding, op[0], cx.keras_major());
  int spread = input;
  if (w.s[0] > 1) {
    ir::PadCropAttrs z;
    z.in = {1, in[0], 1, plane * c};
    z.before = {0, 0, 0, 0};
    z.after = {0, 0, w.s[0] - 1, 0};
    spread = cx.add_op(layer, z, input, {ir::checked_mul(in[0], w.s[0]), in[1], in[2], c});
  }
  const int64_t zd = cx.shape_of(spread)[0], kd = w.k[0];
  const int64_t pad_front = (kd - 1) * w.d[0] - depth.pad;
  ir::DepthTapsAttrs taps{zd, depth.out, plane, c, kd, 1, w.d[0], pad_front};
  const int gathered = cx.add_op(layer, taps, spread, {depth.out, in[1], in[2], kd * c});
  ir::ConvGeom g;
  g.padding = w.padding;
  g.in_h = in[1], g.in_w = in[2], g.in_c = kd * c, g.out_c = filters;
  g.k_h = w.k[1], g.k_w = w.k[2], g.stride_h = w.s[1], g.stride_w = w.s[2], g.dil_h = w.d[1], g.dil_w = w.d[2];
  const Axis h = transpose_axis(g.in_h, g.k_h, g.stride_h, g.dil_h, g.padding, op[1], cx.keras_major());
  const Axis x = transpose_axis(g.in_w, g.k_w, g.stride_w, g.dil_w, g.padding, op[2], cx.keras_major());
  g.out_h = h.out, g.pad_top = h.pad, g.out_w = x.out, g.pad_left = x.pad;
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& wt = cx.weights(layer, ab.use_bias ? 2 : 1);
  Context::expect_shape(wt[0], {kd, w.k[1], w.k[2], filters, c}, "kernel");
  // Keras [kd][kh][kw][F][C] -> [kh][kw][kd'][C][F], kd' = kd - 1 - kd.
  const int64_t taps2 = w.k[1] * w.k[2];
  std::vector<float> kr(wt[0].data.size());
  for (int64_t z = 0; z < kd; ++z)
    for (int64_t t = 0; t < taps2; ++t)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t f = 0; f < filters; ++f)
          kr[static_cast<size_t>(((t * kd + (kd - 1 - z)) * c + ch) * filters + f)] =
              wt[0].data[static_cast<size_t>(((z * taps2 + t) * filters + f) * c + ch)];
  ir::ConvTransposeAttrs attrs;
  attrs.geom = g;
  attrs.kernel = cx.add_weight(layer, with_data(wt[0], std::move(kr)), {taps2 * kd * c, filters});
  if (ab.use_bias) {
    Context::expect_shape(wt[1], {filters}, "bias");
    attrs.bias = cx.add_weight(layer, wt[1]);
  }
  attrs.act = ab.act.act;
  const int out = cx.add_op(layer, attrs, gathered, {depth.out, g.out_h, g.out_w, filters});
  cx.graph().ops.back().slices = depth.out;
  return finish(cx, layer, ab.act, out);
}

}  // namespace

int lower_conv_transpose(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) return via_channels_last(cx, layer, input, lower_conv_transpose);
  const json& cfg = *layer.config;
  const int rank = spatial_rank(layer, true);
  if (rank == 3) return conv_transpose_3d(cx, layer, input);
  ir::ConvGeom g = input_geom(cx.shape_of(input), rank);
  const std::vector<int64_t> k = spatial_ints(cfg, "kernel_size", rank);
  const std::vector<int64_t> s = spatial_ints(cfg, "strides", rank, 1);
  const std::vector<int64_t> d = spatial_ints(cfg, "dilation_rate", rank, 1);
  const std::vector<int64_t> op = output_padding(cfg, rank);
  g.padding = padding_of(cfg, false);
  const size_t wi = static_cast<size_t>(rank) - 1;
  g.k_h = rank == 2 ? k[0] : 1, g.k_w = k[wi];
  g.stride_h = rank == 2 ? s[0] : 1, g.stride_w = s[wi];
  g.dil_h = rank == 2 ? d[0] : 1, g.dil_w = d[wi];
  const Axis h = rank == 2 ? transpose_axis(g.in_h, g.k_h, g.stride_h, g.dil_h, g.padding, op[0], cx.keras_major())
                           : Axis{1, 0};
  const Axis x = transpose_axis(g.in_w, g.k_w, g.stride_w, g.dil_w, g.padding, op[wi], cx.keras_major());
  g.out_h = h.out, g.pad_top = h.pad;
  g.out_w = x.out, g.pad_left = x.pad;
  const int64_t filters = get_int(cfg, "filters");
  if (filters <= 0) throw LayerProblem{"filters must be positive"};
  g.out_c = filters;
  const ActivationAndBias ab = activation_and_bias(cx, cfg);
  const auto& w = cx.weights(layer, ab.use_bias ? 2 : 1);
  Context::expect_shape(w[0], kernel_shape(g, rank, filters, g.in_c), "kernel");
  // Keras [kh][kw][F][C] -> [kh][kw][C][F].
  const int64_t taps = g.k_h * g.k_w;
  std::vector<float> kt(w[0].data.size());
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t c = 0; c < g.in_c; ++c)
      for (int64_t f = 0; f < filters; ++f)
        kt[static_cast<size_t>((t * g.in_c + c) * filters + f)] =
            w[0].data[static_cast<size_t>((t * filters + f) * g.in_c + c)];
  ir::ConvTransposeAttrs attrs;
  attrs.geom = g;
  attrs.kernel = cx.add_weight(layer, with_data(w[0], std::move(kt)), {taps * g.in_c, filters});
  if (ab.use_bias) {
    Context::expect_shape(w[1], {filters}, "bias");
    attrs.bias = cx.add_weight(layer, w[1]);
  }
  attrs.act = ab.act.act;
  return finish(cx, layer, ab.act, cx.add_op(layer, attrs, input, out_shape(g, rank)));
}

namespace {

// Max/AveragePooling3D on [D][H][W][C] as two PoolAttrs ops (ir/ops_conv.h): the (H, W) window on
// each depth slice (Op::slices = D), then the depth window on [D][1][OH*OW*C]. The window's valid
// taps are a box, so the average of the slices' averages is the average (rounded twice).
int pooling_3d(Context& cx, const Layer& layer, int input, ir::PoolKind kind) {
  const json& cfg = *layer.config;
  const ir::Shape in = volume_input(cx, input);
  const std::vector<int64_t> k = spatial_ints(cfg, "pool_size", 3);
  const bool default_strides = !cfg.contains("strides") || cfg["strides"].is_null();
  const std::vector<int64_t> s = default_strides ? k : spatial_ints(cfg, "strides", 3, 1);
  ir::PoolAttrs hw;
  hw.kind = kind;
  ir::ConvGeom& g = hw.geom;
  g.padding = padding_of(cfg, false);
  g.in_h = in[1], g.in_w = in[2], g.in_c = g.out_c = in[3];
  g.k_h = k[1], g.k_w = k[2], g.stride_h = s[1], g.stride_w = s[2];
  const Axis h = forward_axis(g.in_h, g.k_h, g.stride_h, 1, g.padding), w = forward_axis(g.in_w, g.k_w, g.stride_w, 1, g.padding);
  g.out_h = h.out, g.pad_top = h.pad, g.out_w = w.out, g.pad_left = w.pad;
  const int t = cx.add_op(layer, hw, input, {in[0], g.out_h, g.out_w, g.in_c});
  cx.graph().ops.back().slices = in[0];
  ir::PoolAttrs depth;
  depth.kind = kind;
  ir::ConvGeom& gd = depth.geom;
  gd.padding = g.padding;
  gd.in_h = in[0], gd.in_c = gd.out_c = g.out_h * g.out_w * g.in_c;
  gd.k_h = k[0], gd.stride_h = s[0];
  const Axis d = forward_axis(gd.in_h, gd.k_h, gd.stride_h, 1, gd.padding);
  gd.out_h = d.out, gd.pad_top = d.pad;
  return cx.add_op(layer, depth, t, {gd.out_h, g.out_h, g.out_w, g.in_c});
}

}  // namespace

int lower_pooling(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) return via_channels_last(cx, layer, input, lower_pooling);
  const int rank = spatial_rank(layer, true);
  const ir::PoolKind kind = layer.class_name.find("Max") != std::string::npos ? ir::PoolKind::Max : ir::PoolKind::Average;
  cx.weights(layer, 0);
  if (rank == 3) return pooling_3d(cx, layer, input, kind);
  ir::ConvGeom g = window_geom(layer, cx.shape_of(input), rank, "pool_size", true);
  g.out_c = g.in_c;
  ir::PoolAttrs attrs;
  attrs.geom = g;
  attrs.kind = kind;
  return cx.add_op(layer, attrs, input, out_shape(g, rank));
}

namespace {

// GlobalAveragePooling1D under a Keras mask m [T, 1], as Keras computes sum(x * m) / sum(m): here
// the average of x * m (a broadcasting Multiply) divided by the average of m, ((s / T) / (n / T)):
// a few roundings from Keras's s / n; a fully masked sample gives 0 / 0 = NaN, as in Keras.
int masked_average_1d(Context& cx, const Layer& layer, int input, int mask, bool keepdims) {
  const ir::Shape in = cx.shape_of(input);
  const int xm = cx.add_op(layer, ir::MergeAttrs{ir::MergeKind::Multiply, {}}, input, in);
  cx.graph().ops.back().inputs.push_back(mask);
  const int s = cx.add_op(layer, ir::GlobalPoolAttrs{ir::PoolKind::Average, in[0], in[1]}, xm, {in[1]});
  const int n = cx.add_op(layer, ir::GlobalPoolAttrs{ir::PoolKind::Average, in[0], 1}, mask, {1});
  const int y = cx.add_op(layer, ir::MergeAttrs{ir::MergeKind::Divide, {}}, s, {in[1]});
  cx.graph().ops.back().inputs.push_back(n);
  return keepdims ? cx.add_op(layer, ir::ReshapeAttrs{}, y, {1, in[1]}) : y;
}

}  // namespace

int lower_global_pooling(Context& cx, const Layer& layer, int input) {
  if (channels_first(*layer.config)) {
    if (cx.has_mask(input))
      throw LayerProblem{"receives a Keras mask; a channels_first " + layer.class_name + " under a mask is not supported"};
    return via_channels_last(cx, layer, input, lower_global_pooling);
  }
  const json& cfg = *layer.config;
  if (layer.class_name == "GlobalAveragePooling1D" && cx.has_mask(input) && cx.shape_of(input).size() == 2)
    return masked_average_1d(cx, layer, input, cx.mask_of(input), get_bool(cfg, "keepdims", false));
  const int rank = spatial_rank(layer, true);
  const ir::Shape in = cx.shape_of(input);
  if (in.size() != static_cast<size_t>(rank) + 1)
    throw LayerProblem{"expects a rank-" + std::to_string(rank + 2) + " input (batch, " + std::to_string(rank) +
                       " spatial axes, channels), got " + ir::to_string(in)};
  cx.weights(layer, 0);
  ir::GlobalPoolAttrs attrs;
  attrs.kind = layer.class_name.find("Max") != std::string::npos ? ir::PoolKind::Max : ir::PoolKind::Average;
  attrs.channels = in.back();
  attrs.rows = ir::num_elements(in) / attrs.channels;
  const bool keepdims = get_bool(cfg, "keepdims", false);
  ir::Shape shape = keepdims ? ir::Shape(static_cast<size_t>(rank), 1) : ir::Shape{};
  shape.push_back(attrs.channels);
  return cx.add_op(layer, attrs, input, shape);
}

}  // namespace kc2cpp::lower
