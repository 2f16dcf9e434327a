// Preprocessing layers: Rescaling, Normalization (ir::ChannelMapAttrs, ir/ops_preprocessing.h),
// CenterCrop (ir::PadCropAttrs, or a resize when the input is smaller) and Resizing (ir::ResizeAttrs,
// ir/ops_shape.h), as Keras 3 (keras/src/layers/preprocessing/) and tf.keras 2.15
// (keras/src/layers/preprocessing/image_preprocessing.py, normalization.py) compute them.
#include <algorithm>
#include <cmath>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

// ---------------------------------------------------------------------------------------------
// Per-channel parameters

// A parameter from the config: a number, a (nested, rectangular) list, or Keras 3's serialised numpy
// array {"class_name": "__numpy__", "config": {"value": ..., "dtype": ...}}. Values row-major.
struct Param {
  ir::Shape shape;
  std::vector<double> values;
};

void parse_nested(const json& v, size_t depth, Param& p, const char* key) {
  if (depth > 8) throw LayerProblem{std::string("'") + key + "' is nested too deeply"};
  if (v.is_number()) {
    if (depth != p.shape.size()) throw LayerProblem{std::string("'") + key + "' is not a rectangular array"};
    p.values.push_back(v.get<double>());
    return;
  }
  if (!v.is_array() || v.empty()) throw LayerProblem{std::string("'") + key + "' holds " + v.dump() + ", not numbers"};
  if (depth == p.shape.size() && p.values.empty()) p.shape.push_back(static_cast<int64_t>(v.size()));
  if (depth >= p.shape.size() || p.shape[depth] != static_cast<int64_t>(v.size()))
    throw LayerProblem{std::string("'") + key + "' is not a rectangular array"};
  for (const json& e : v) parse_nested(e, depth + 1, p, key);
}

Param parse_param(const json& cfg, const char* key) {
  const json* v = &require(cfg, key);
  if (string_at(*v, "class_name") == "__numpy__" && v->contains("config"))
    v = &require((*v)["config"], "value");
  Param p;
  parse_nested(*v, 0, p, key);
  return p;
}

// `p` right-aligned against `target` (numpy broadcasting, which must not grow `target`): each of its
// dims is 1 or the target's; missing leading dims are 1. Returns p's dims over the target's axes.
// `batch`: target[0] is the batch axis (size 1 here), along which a parameter must not vary.
ir::Shape aligned_dims(const Param& p, const ir::Shape& target, const char* what, bool batch) {
  if (p.shape.size() > target.size())
    throw LayerProblem{std::string(what) + " has " + std::to_string(p.shape.size()) + " axes, more than the " +
                       std::to_string(target.size()) + " it must broadcast to"};
  ir::Shape dims(target.size() - p.shape.size(), 1);
  dims.insert(dims.end(), p.shape.begin(), p.shape.end());
  if (batch && dims[0] != 1)
    throw LayerProblem{std::string(what) + " varies along the batch axis (" + std::to_string(dims[0]) +
                       " values); not supported"};
  for (size_t k = 0; k < dims.size(); ++k)
    if (dims[k] != 1 && dims[k] != target[k])
      throw LayerProblem{std::string(what) + " has " + std::to_string(dims[k]) + " values along an axis of size " +
                         std::to_string(target[k]) + "; it does not broadcast to the input"};
  return dims;
}

// A parameter with per-sample dims `dims` (each 1 or the input's), values row-major, as the
// [outer][channels][inner] view of the input: the channels span every axis along which it varies,
// materialised over that span (broadcast along size-1 axes inside it).
struct ChannelParam {
  int64_t outer = 1, channels = 1, inner = 1;
  std::vector<float> values;
};

ChannelParam to_channels(const ir::Shape& dims, const std::vector<double>& values, const ir::Shape& in) {
  int first = -1, last = -1;
  for (size_t k = 0; k < dims.size(); ++k)
    if (dims[k] != 1) last = static_cast<int>(k), first = first < 0 ? static_cast<int>(k) : first;
  ChannelParam c;
  if (first < 0) {  // a scalar
    c.inner = ir::num_elements(in);
    c.values = {static_cast<float>(values.at(0))};
    return c;
  }
  for (int k = 0; k < first; ++k) c.outer *= in[k];
  for (int k = first; k <= last; ++k) c.channels *= in[k];
  for (size_t k = static_cast<size_t>(last) + 1; k < in.size(); ++k) c.inner *= in[k];
  // Element e of the span -> its index in `values` (strides of dims, 0 along size-1 axes).
  for (int64_t e = 0; e < c.channels; ++e) {
    int64_t rest = e, src = 0, stride = 1;
    for (int k = last; k >= first; --k) {
      const int64_t i = rest % in[k];
      rest /= in[k];
      if (dims[k] != 1) src += i * stride;
      stride *= dims[k];
    }
    c.values.push_back(static_cast<float>(values.at(static_cast<size_t>(src))));
  }
  return c;
}

int add_channel_map(Context& cx, const Layer& layer, int input, ir::ChannelMapForm form, const ChannelParam& a,
                    const ChannelParam& b, const char* a_name, const char* b_name) {
  if (a.outer != b.outer || a.channels != b.channels) throw LayerProblem{"internal: parameters of different spans"};
  ir::ChannelMapAttrs m;
  m.form = form;
  m.outer = a.outer, m.channels = a.channels, m.inner = a.inner;
  m.a = cx.add_param(layer, a_name, a.values);
  m.b = cx.add_param(layer, b_name, b.values);
  return cx.add_op(layer, m, input, cx.shape_of(input));
}

// Both parameters over the union of their spans: `p` re-expanded with the other's varying axes.
ir::Shape union_dims(const ir::Shape& a, const ir::Shape& b) {
  ir::Shape u = a;
  for (size_t k = 0; k < u.size(); ++k) u[k] = std::max(a[k], b[k]);
  return u;
}

std::vector<double> broadcast_values(const ir::Shape& from, const std::vector<double>& v, const ir::Shape& to) {
  std::vector<double> out(static_cast<size_t>(ir::num_elements(to)));
  for (size_t e = 0; e < out.size(); ++e) {
    int64_t rest = static_cast<int64_t>(e), src = 0, stride = 1;
    for (size_t k = to.size(); k-- > 0;) {
      const int64_t i = rest % to[k];
      rest /= to[k];
      if (from[k] != 1) src += i * stride;
      stride *= from[k];
    }
    out[e] = v.at(static_cast<size_t>(src));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Normalization

// Keras's default backend epsilon() (keras.config.epsilon(); the file does not record another).
constexpr float kKerasEpsilon = 1e-7f;

// Sorted distinct kept axes (per sample) from Normalization's `axis`: an int, a list, or null / [] (none).
std::vector<int> kept_axes(const json& cfg, size_t rank) {
  auto it = cfg.find("axis");
  std::vector<int> axes;
  if (it == cfg.end()) axes.push_back(normalize_axis(-1, rank));
  else if (it->is_number_integer()) axes.push_back(normalize_axis(it->get<int64_t>(), rank));
  else if (it->is_array())
    for (const json& a : *it) {
      if (!a.is_number_integer()) throw LayerProblem{"axis " + it->dump() + " is not a list of integers"};
      axes.push_back(normalize_axis(a.get<int64_t>(), rank));
    }
  else if (!it->is_null()) throw LayerProblem{"axis " + it->dump() + " is not an integer, a list or null"};
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

// The statistics' per-sample dims: the input's along kept axes, 1 elsewhere.
ir::Shape stats_dims(const ir::Shape& in, const std::vector<int>& kept) {
  ir::Shape d(in.size(), 1);
  for (int k : kept) d[static_cast<size_t>(k)] = in[static_cast<size_t>(k)];
  return d;
}

// mean= / variance= from the config, as per-sample dims + values. Keras 3 broadcasts the value to the
// statistics' broadcast shape (batch axis included, 1 along reduced axes); tf.keras 2 multiplies it by
// ones(kept shape) (right-aligned against the kept axes only).
std::vector<double> config_stats(Context& cx, const json& cfg, const char* key, const ir::Shape& in,
                                 const std::vector<int>& kept) {
  const Param p = parse_param(cfg, key);
  const ir::Shape sd = stats_dims(in, kept);
  if (cx.keras_major() == 2) {
    ir::Shape kshape;
    for (int k : kept) kshape.push_back(in[static_cast<size_t>(k)]);
    const ir::Shape dims = aligned_dims(p, kshape, key, false);
    return broadcast_values(dims, p.values, kshape);  // row-major over the kept axes = over sd
  }
  ir::Shape full = {1};
  full.insert(full.end(), sd.begin(), sd.end());
  ir::Shape dims = aligned_dims(p, full, key, true);
  dims.erase(dims.begin());
  return broadcast_values(dims, p.values, sd);
}

// d = max(sqrt(variance), epsilon) in float32, as Keras computes it (a NaN stays NaN, like
// tf.maximum / jnp.maximum).
float denominator(float variance) {
  const float s = std::sqrt(variance);
  return std::isnan(s) ? s : std::max(s, kKerasEpsilon);
}

// ---------------------------------------------------------------------------------------------
// Resizing

// Which Keras computed the taps: tf.image.resize (tf.keras 2; Keras 3 with the TensorFlow backend),
// jax.image.resize as XLA compiles it (Keras 3 with the JAX backend) or its NumPy copy (Keras 3's NumPy
// backend).
enum class TapRule { TensorFlow, Jax, Numpy };

TapRule tap_rule(const Context& cx) {
  if (cx.keras_major() == 2) return TapRule::TensorFlow;
  const std::string& b = cx.model().backend;
  if (b == "tensorflow") return TapRule::TensorFlow;
  if (b == "jax" || b.empty()) return TapRule::Jax;
  if (b == "numpy") return TapRule::Numpy;
  throw LayerProblem{"resizing saved with the '" + b + "' backend is not supported (its pixel rule is not "
                     "modelled); save the model with the JAX or TensorFlow backend"};
}

// Output index i of m from a source of n (starting at `start` in the input), per rule. Every step in
// float32, as each framework computes it (this file is compiled without FP contraction):
//   TensorFlow (resize_nearest_neighbor, HalfPixelScalerForNN): floor((i + 0.5) * (n / m))
//   JAX: jax computes (i + 0.5) * n / m; XLA folds the constants into one multiplier, n * (1 / m)
//        (each rounded): floor((i + 0.5) * float(n * float(1 / m))) (checked against the pinned jaxlib
//        for every n < 70 or in {224, 227, 256} and 26 output sizes up to 299)
//   NumPy: floor((i + 0.5) * n / m), both operations rounded
// These pick different pixels for some sizes (n = 2, m = 41: output 20 reads row 0 in TensorFlow and
// JAX, row 1 in NumPy; n = 6, m = 37: output 18 reads row 3 in JAX, row 2 in TensorFlow).
ir::ResizeTap nearest_tap(TapRule rule, int64_t i, int64_t n, int64_t m, int64_t start) {
  const float c = static_cast<float>(i) + 0.5f, fn = static_cast<float>(n), fm = static_cast<float>(m);
  float s;
  if (rule == TapRule::TensorFlow) s = c * (fn / fm);
  else if (rule == TapRule::Jax) s = c * ((1.0f / fm) * fn);
  else s = c * fn / fm;
  const int64_t k = std::clamp<int64_t>(static_cast<int64_t>(std::floor(s)), 0, n - 1);
  return {static_cast<int32_t>(start + k), static_cast<int32_t>(start + k), 0.0f};
}

ir::ResizeTap bilinear_tap(TapRule rule, int64_t i, int64_t n, int64_t m, int64_t start) {
  ir::ResizeTap t;
  if (rule == TapRule::TensorFlow) {  // resize_bilinear(half_pixel_centers=True): compute_interpolation_weights
    const float s = (static_cast<float>(i) + 0.5f) * (static_cast<float>(n) / static_cast<float>(m)) - 0.5f;
    const float f = std::floor(s);
    t.lo = static_cast<int32_t>(std::max<int64_t>(static_cast<int64_t>(f), 0));
    t.hi = static_cast<int32_t>(std::min<int64_t>(static_cast<int64_t>(std::ceil(s)), n - 1));
    t.w = s - f;
  } else {  // jax.image.scale_and_translate (NumPy: its copy), triangle kernel, weights normalised by their sum
    const float inv = static_cast<float>(1.0 / (static_cast<double>(m) / static_cast<double>(n)));
    const float s = (static_cast<float>(i) + 0.5f) * inv - 0.5f;
    const int64_t f = static_cast<int64_t>(std::floor(s));
    auto weight = [&](int64_t j) {
      return j < 0 || j >= n ? 0.0f : std::max(0.0f, 1.0f - std::fabs(s - static_cast<float>(j)));
    };
    const float wl = weight(f), wh = weight(f + 1), total = wl + wh;
    t.lo = static_cast<int32_t>(wl > 0.0f ? f : f + 1);
    t.hi = static_cast<int32_t>(wh > 0.0f ? f + 1 : t.lo);
    t.w = wl > 0.0f && wh > 0.0f ? wh / total : 0.0f;
  }
  t.lo += static_cast<int32_t>(start);
  t.hi += static_cast<int32_t>(start);
  return t;
}

// The crop_to_aspect_ratio window along one axis: `size` of the input's n, from `start`. Keras 3 computes
// it in Python (double, at least 1); tf.keras 2 in float32 tensors (no lower bound).
struct Window {
  int64_t start = 0, size = 0;
};
Window aspect_window(const Context& cx, int64_t n, int64_t other, int64_t target, int64_t other_target) {
  Window w;
  if (cx.keras_major() == 2) {
    w.size = std::min(n, static_cast<int64_t>(static_cast<float>(other * target) / static_cast<float>(other_target)));
    w.start = static_cast<int64_t>(static_cast<float>(n - w.size) / 2.0f);
  } else {
    w.size = std::max<int64_t>(std::min(n, static_cast<int64_t>(static_cast<double>(other * target) / other_target)), 1);
    w.start = static_cast<int64_t>(static_cast<double>(n - w.size) / 2.0);
  }
  if (w.size <= 0)
    throw LayerProblem{"crop_to_aspect_ratio leaves no pixel of an axis of size " + std::to_string(n) +
                       " (tf.keras fails on this too)"};
  return w;
}

struct ResizeSpec {
  ir::ResizeMethod method = ir::ResizeMethod::Bilinear;
  int64_t height = 0, width = 0;
  bool crop = false, channels_first = false;
};

// The image axes of a per-sample (H, W, C) or (C, H, W) shape.
void expect_image(const ir::Shape& in) {
  if (in.size() != 3)
    throw LayerProblem{"expects images of shape (batch, height, width, channels) with 3 axes per sample, got " +
                       ir::to_string(in)};
}

int add_resize(Context& cx, const Layer& layer, int input, const ResizeSpec& r) {
  const ir::Shape& in = cx.shape_of(input);
  expect_image(in);
  const TapRule rule = tap_rule(cx);
  ir::ResizeAttrs a;
  a.method = r.method;
  a.outer = r.channels_first ? in[0] : 1;
  a.in_h = r.channels_first ? in[1] : in[0];
  a.in_w = r.channels_first ? in[2] : in[1];
  a.inner = r.channels_first ? 1 : in[2];
  Window wh{0, a.in_h}, ww{0, a.in_w};
  if (r.crop) {
    wh = aspect_window(cx, a.in_h, a.in_w, r.height, r.width);
    ww = aspect_window(cx, a.in_w, a.in_h, r.width, r.height);
  }
  auto tap = [&](int64_t i, int64_t n, int64_t m, int64_t start) {
    return r.method == ir::ResizeMethod::Nearest ? nearest_tap(rule, i, n, m, start) : bilinear_tap(rule, i, n, m, start);
  };
  for (int64_t i = 0; i < r.height; ++i) a.rows.push_back(tap(i, wh.size, r.height, wh.start));
  for (int64_t j = 0; j < r.width; ++j) a.cols.push_back(tap(j, ww.size, r.width, ww.start));
  a.rule = std::string(rule == TapRule::TensorFlow ? "TensorFlow's" : rule == TapRule::Jax ? "JAX's" : "NumPy's") +
           " half-pixel " +
           (r.method == ir::ResizeMethod::Nearest ? "nearest" : "bilinear") + " rule";
  if (r.crop)
    a.rule += "; crop to aspect ratio: rows [" + std::to_string(wh.start) + ", " + std::to_string(wh.start + wh.size) +
              "), columns [" + std::to_string(ww.start) + ", " + std::to_string(ww.start + ww.size) + ")";
  ir::Shape out = in;
  out[r.channels_first ? 1 : 0] = r.height;
  out[r.channels_first ? 2 : 1] = r.width;
  return cx.add_op(layer, a, input, out);
}

bool is_channels_first(const json& cfg) {
  auto it = cfg.find("data_format");
  if (it == cfg.end() || it->is_null()) return false;
  const std::string f = it->is_string() ? it->get<std::string>() : "";
  if (f != "channels_last" && f != "channels_first") throw LayerProblem{"data_format " + it->dump() + " is not known"};
  return f == "channels_first";
}

int64_t positive(const json& cfg, const char* key) {
  const int64_t v = get_int(cfg, key);
  if (v <= 0 || v > (int64_t{1} << 20))
    throw LayerProblem{std::string("'") + key + "' is " + std::to_string(v) + ", not a size in [1, 2^20]"};
  return v;
}

}  // namespace

int lower_rescaling(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape& in = cx.shape_of(input);
  ir::Shape full = {1};
  full.insert(full.end(), in.begin(), in.end());
  Param scale = parse_param(cfg, "scale");
  Param offset = cfg.contains("offset") ? parse_param(cfg, "offset") : Param{{}, {0.0}};
  ir::Shape ds = aligned_dims(scale, full, "scale", true), dof = aligned_dims(offset, full, "offset", true);
  ds.erase(ds.begin()), dof.erase(dof.begin());
  const ir::Shape u = union_dims(ds, dof);
  const ChannelParam a = to_channels(u, broadcast_values(ds, scale.values, u), in);
  const ChannelParam b = to_channels(u, broadcast_values(dof, offset.values, u), in);
  return add_channel_map(cx, layer, input, ir::ChannelMapForm::MulAdd, a, b, "scale", "offset");
}

int lower_normalization(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape& in = cx.shape_of(input);
  const std::vector<int> kept = kept_axes(cfg, in.size());
  const ir::Shape sd = stats_dims(in, kept);
  const int64_t n = ir::num_elements(sd);
  std::vector<double> mean, var;
  const bool from_config = cfg.contains("mean") && !cfg["mean"].is_null();
  if (from_config) {
    if (!cfg.contains("variance") || cfg["variance"].is_null()) throw LayerProblem{"mean is set but variance is not"};
    cx.weights(layer, 0);
    mean = config_stats(cx, cfg, "mean", in, kept);
    var = config_stats(cx, cfg, "variance", in, kept);
  } else {
    const auto& w = cx.weights(layer, 3);  // mean, variance, count (adapt())
    for (size_t k = 0; k < 2; ++k)
      if (ir::num_elements(w[k].shape) != n)
        throw LayerProblem{std::string(k ? "variance" : "mean") + " '" + w[k].name + "' holds " +
                           std::to_string(ir::num_elements(w[k].shape)) + " values but the axis setting implies " +
                           std::to_string(n) + "; the file's weights do not belong to this config"};
    mean.assign(w[0].data.begin(), w[0].data.end());
    var.assign(w[1].data.begin(), w[1].data.end());
  }
  std::vector<double> d(var.size());
  for (size_t k = 0; k < var.size(); ++k) d[k] = denominator(static_cast<float>(var[k]));
  const ChannelParam m = to_channels(sd, mean, in), s = to_channels(sd, d, in);
  if (get_bool(cfg, "invert", false))  // mean + x * d
    return add_channel_map(cx, layer, input, ir::ChannelMapForm::MulAdd, s, m, "denominator", "mean");
  return add_channel_map(cx, layer, input, ir::ChannelMapForm::SubDiv, m, s, "mean", "denominator");
}

int lower_center_crop(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape& in = cx.shape_of(input);
  expect_image(in);
  ResizeSpec r;
  r.height = positive(cfg, "height");
  r.width = positive(cfg, "width");
  r.channels_first = is_channels_first(cfg);
  const size_t ah = r.channels_first ? 1 : 0, aw = ah + 1;
  const int64_t dh = in[ah] - r.height, dw = in[aw] - r.width;
  if (dh < 0 || dw < 0) {  // smaller than the crop: Keras's smart_resize (bilinear, crop to aspect ratio)
    r.crop = true;
    return add_resize(cx, layer, input, r);
  }
  ir::PadCropAttrs a;
  a.in = {1, in[0], in[1], in[2]};
  a.before = {0, 0, 0, 0};
  a.after = {0, 0, 0, 0};
  a.before[ah + 1] = -(dh / 2), a.after[ah + 1] = -(dh - dh / 2);
  a.before[aw + 1] = -(dw / 2), a.after[aw + 1] = -(dw - dw / 2);
  ir::Shape out = in;
  out[ah] = r.height;
  out[aw] = r.width;
  return cx.add_op(layer, a, input, out);
}

int lower_resizing(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  ResizeSpec r;
  r.height = positive(cfg, "height");
  r.width = positive(cfg, "width");
  r.channels_first = is_channels_first(cfg);
  r.crop = get_bool(cfg, "crop_to_aspect_ratio", false);
  const std::string interp = get_string(cfg, "interpolation", "bilinear");
  if (interp == "nearest") r.method = ir::ResizeMethod::Nearest;
  else if (interp != "bilinear")
    throw LayerProblem{"interpolation '" + interp + "' is not supported (nearest and bilinear are); save the model "
                       "with one of those"};
  if (get_bool(cfg, "pad_to_aspect_ratio", false))
    throw LayerProblem{"pad_to_aspect_ratio=True is not supported; use crop_to_aspect_ratio or plain resizing"};
  if (get_bool(cfg, "antialias", false) && r.method == ir::ResizeMethod::Bilinear)
    throw LayerProblem{"antialias=True is not supported; save the model with antialias=False"};
  return add_resize(cx, layer, input, r);
}

}  // namespace kc2cpp::lower
