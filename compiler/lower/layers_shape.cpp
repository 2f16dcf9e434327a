// Embedding, normalization and shape layers: Embedding, BatchNormalization, LayerNormalization,
// UnitNormalization, GroupNormalization, Permute, RepeatVector, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D.
// (Flatten and Reshape are views: layers_core.cpp.) The op semantics are in ir/ops_shape.h.
#include <algorithm>
#include <cmath>
#include <set>

#include "lower/layers.h"

namespace kc2cpp::lower {
namespace {

int64_t product(const ir::Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i) n = ir::checked_mul(n, s[i]);
  return n;
}

std::string str(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i] + 1);
  return s + "]";
}

// Keras axis config (an int or a list; Keras counts the batch axis) -> sorted, distinct per-sample axes.
std::vector<int> axes_of(const json& v, size_t rank) {
  std::set<int> axes;
  if (v.is_number_integer()) {
    axes.insert(normalize_axis(v.get<int64_t>(), rank));
  } else if (v.is_array() && !v.empty()) {
    for (const json& a : v) {
      if (!a.is_number_integer()) throw LayerProblem{"axis " + v.dump() + " is not a list of integers"};
      axes.insert(normalize_axis(a.get<int64_t>(), rank));
    }
  } else {
    throw LayerProblem{"axis " + v.dump() + " is not an integer or a list of integers"};
  }
  return {axes.begin(), axes.end()};
}

bool contiguous(const std::vector<int>& axes) { return axes.back() - axes.front() + 1 == static_cast<int>(axes.size()); }


// 1, 2 or 3 from the class name's "1D"/"2D"/"3D".
size_t spatial_rank(const Layer& layer) {
  const std::string& c = layer.class_name;
  return static_cast<size_t>(c[c.size() - 2] - '0');
}

// The per-sample shape must be `spatial` spatial axes plus the channel axis.
void expect_rank(const ir::Shape& s, size_t spatial) {
  if (s.size() != spatial + 1)
    throw LayerProblem{"expects inputs of shape (batch, " + std::string(spatial == 1 ? "steps" : "spatial axes") +
                       ", channels) with " + std::to_string(spatial + 1) + " axes per sample, got " + ir::to_string(s)};
}

int64_t nonneg(const json& v, const char* key) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    throw LayerProblem{std::string("'") + key + "' holds " + v.dump() + ", not a non-negative integer"};
  return config_int(v, std::string("'") + key + "'");
}

// Keras's padding/cropping amounts for n spatial axes: an int (all sides), a list of n ints
// (symmetric per axis; for n = 1 the pair (before, after)), or a list of n pairs.
std::vector<std::pair<int64_t, int64_t>> amounts(const json& v, size_t n, const char* key) {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (v.is_number_integer()) return std::vector<std::pair<int64_t, int64_t>>(n, {nonneg(v, key), nonneg(v, key)});
  if (!v.is_array()) throw LayerProblem{std::string("'") + key + "' is " + v.dump() + ", not an int or a list"};
  if (n == 1 && v.size() == 2 && v[0].is_number_integer()) return {{nonneg(v[0], key), nonneg(v[1], key)}};
  if (v.size() != n) throw LayerProblem{std::string("'") + key + "' " + v.dump() + " does not have " + std::to_string(n) + " entries"};
  for (const json& a : v) {
    if (a.is_number_integer()) out.push_back({nonneg(a, key), nonneg(a, key)});
    else if (a.is_array() && a.size() == 2) out.push_back({nonneg(a[0], key), nonneg(a[1], key)});
    else throw LayerProblem{std::string("'") + key + "' " + v.dump() + " is not a list of pairs"};
  }
  return out;
}

// Keras's size / factors for n axes: an int (all axes) or a list of n positive ints.
std::vector<int64_t> factors(const json& v, size_t n, const char* key) {
  std::vector<int64_t> out;
  if (v.is_number_integer()) out.assign(n, config_int(v, std::string("'") + key + "'"));
  else if (v.is_array() && v.size() == n)
    for (const json& a : v) out.push_back(a.is_number_integer() ? config_int(a, std::string("'") + key + "'") : 0);
  for (int64_t f : out)
    if (f <= 0) out.clear();
  if (out.size() != n)
    throw LayerProblem{std::string("'") + key + "' is " + v.dump() + ", not a positive integer or " + std::to_string(n) +
                       " of them"};
  return out;
}

// The canonical 4-axis view of a per-sample shape (leading axes padded with extent 1), and the
// position of per-sample axis a in it.
std::vector<int64_t> view4(const ir::Shape& s) {
  if (s.size() > 4) throw LayerProblem{"inputs with more than 4 axes per sample are not supported"};
  std::vector<int64_t> v(4 - s.size(), 1);
  v.insert(v.end(), s.begin(), s.end());
  return v;
}
size_t pos4(const ir::Shape& s, size_t axis) { return 4 - s.size() + axis; }

// The per-sample axes holding the n spatial dimensions, in order (the channel axis is last, or first).
std::vector<size_t> spatial_axes(size_t n, bool first) {
  std::vector<size_t> axes;
  for (size_t i = 0; i < n; ++i) axes.push_back(first ? i + 1 : i);
  return axes;
}

// Pads (sign +1) or crops (sign -1) the spatial axes.
int pad_or_crop(Context& cx, const Layer& layer, int input, const char* key, int sign) {
  const json& cfg = *layer.config;
  const size_t n = spatial_rank(layer);
  const ir::Shape& in = cx.shape_of(input);
  expect_rank(in, n);
  const auto amt = amounts(require(cfg, key), n, key);
  const std::vector<size_t> axes = spatial_axes(n, channels_first(cfg));
  ir::PadCropAttrs a;
  a.in = view4(in);
  a.before.assign(4, 0);
  a.after.assign(4, 0);
  ir::Shape out = in;
  for (size_t i = 0; i < n; ++i) {
    const size_t ax = axes[i];
    a.before[pos4(in, ax)] = sign * amt[i].first;
    a.after[pos4(in, ax)] = sign * amt[i].second;
    out[ax] = ir::checked_add(in[ax], sign * ir::checked_add(amt[i].first, amt[i].second));
    if (out[ax] <= 0)
      throw LayerProblem{"cropping " + std::to_string(amt[i].first) + " + " + std::to_string(amt[i].second) +
                         " leaves nothing of axis " + std::to_string(ax + 1) + " (size " + std::to_string(in[ax]) + ")"};
  }
  return cx.add_op(layer, a, input, out);
}

// UpSampling2D's bilinear taps along an axis of n with integer factor f (the rule of ir::ResizeAttrs).
std::vector<ir::ResizeTap> upsample_taps(int64_t n, int64_t f) {
  std::vector<ir::ResizeTap> taps;
  const float den = static_cast<float>(2 * f);
  for (int64_t i = 0; i < n * f; ++i) {
    const int64_t k = i / f, t = 2 * (i % f) + 1;
    ir::ResizeTap p;
    if (t < f) p.lo = static_cast<int32_t>(std::max<int64_t>(k - 1, 0)), p.hi = static_cast<int32_t>(k),
               p.w = static_cast<float>(t + f) / den;
    else if (t == f) p.lo = p.hi = static_cast<int32_t>(k), p.w = 0.0f;
    else p.lo = static_cast<int32_t>(k), p.hi = static_cast<int32_t>(std::min(k + 1, n - 1)),
         p.w = static_cast<float>(t - f) / den;
    taps.push_back(p);
  }
  return taps;
}

int bilinear(Context& cx, const Layer& layer, int input, const std::vector<int64_t>& f, bool first) {
  const ir::Shape& in = cx.shape_of(input);
  ir::ResizeAttrs a;
  a.method = ir::ResizeMethod::Bilinear;
  a.outer = first ? in[0] : 1;
  a.in_h = first ? in[1] : in[0];
  a.in_w = first ? in[2] : in[1];
  a.inner = first ? 1 : in[2];
  if (f[0] > (int64_t{1} << 20) / a.in_h || f[1] > (int64_t{1} << 20) / a.in_w)
    throw LayerProblem{"bilinear upsampling to more than 2^20 rows or columns is not supported"};
  a.rows = upsample_taps(a.in_h, f[0]);
  a.cols = upsample_taps(a.in_w, f[1]);
  a.rule = "half-pixel centres, factors (" + std::to_string(f[0]) + ", " + std::to_string(f[1]) + ")";
  ir::Shape out = in;
  out[first ? 1 : 0] *= f[0];
  out[first ? 2 : 1] *= f[1];
  return cx.add_op(layer, a, input, out);
}

// Keras weights that must hold `n` values (BatchNormalization's and LayerNormalization's parameters;
// tf.keras stores multi-axis ones with 1s in the other axes).
void expect_count(const load::NamedArray& a, int64_t n, const char* what) {
  if (ir::num_elements(a.shape) != n)
    throw LayerProblem{std::string(what) + " '" + a.name + "' holds " + std::to_string(ir::num_elements(a.shape)) +
                       " values but the config implies " + std::to_string(n) +
                       "; the file's weights do not belong to this config"};
}

double epsilon_of(const json& cfg) {
  auto it = cfg.find("epsilon");
  if (it == cfg.end() || it->is_null()) return 1e-3;
  if (!it->is_number() || !(it->get<double>() >= 0)) throw LayerProblem{"epsilon is not a non-negative number"};
  return it->get<double>();
}

}  // namespace

ir::PermuteAttrs make_permute(const ir::Shape& in, const std::vector<int>& perm) {
  std::vector<int64_t> stride(in.size());
  for (size_t k = in.size(), s = 1; k-- > 0;) stride[k] = static_cast<int64_t>(s), s *= static_cast<size_t>(in[k]);
  std::vector<std::pair<int64_t, int64_t>> ax;  // (extent, input stride) of the output axes that remain
  for (int k : perm) {
    if (in[k] == 1) continue;
    if (!ax.empty() && ax.back().second == stride[k] * in[k]) ax.back() = {ax.back().first * in[k], stride[k]};
    else ax.push_back({in[k], stride[k]});
  }
  if (ax.empty()) ax.push_back({1, 1});
  if (ax.size() > 6) throw LayerProblem{"permutations that move more than 6 axes are not supported"};
  ir::PermuteAttrs a;
  a.perm = perm;
  a.dims.assign(6 - ax.size(), 1);
  a.strides.assign(6 - ax.size(), 0);
  for (const auto& [d, s] : ax) a.dims.push_back(d), a.strides.push_back(s);
  return a;
}

ir::Shape permuted(const ir::Shape& in, const std::vector<int>& perm) {
  ir::Shape out;
  for (int k : perm) out.push_back(in[k]);
  return out;
}

bool channels_first(const json& cfg) {
  auto it = cfg.find("data_format");
  if (it == cfg.end() || it->is_null()) return false;
  if (!it->is_string()) throw LayerProblem{"data_format is not a string"};
  const std::string f = it->get<std::string>();
  if (f != "channels_last" && f != "channels_first") throw LayerProblem{"data_format '" + f + "' is not known"};
  return f == "channels_first";
}

namespace {

// Runs `op(tensor, shape, n)` on `input` with the (sorted) `axes` moved to the end, in order, n
// being the number of elements over them; moves them back after. No Permute when they are trailing.
template <class Op>
int with_axes_last(Context& cx, const Layer& layer, int input, const std::vector<int>& axes, Op op) {
  const ir::Shape in = cx.shape_of(input);
  int64_t n = 1;
  for (int ax : axes) n *= in[static_cast<size_t>(ax)];
  if (contiguous(axes) && axes.back() + 1 == static_cast<int>(in.size())) return op(input, in, n);
  std::vector<int> perm;
  for (int i = 0; i < static_cast<int>(in.size()); ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i)) perm.push_back(i);
  perm.insert(perm.end(), axes.begin(), axes.end());
  std::vector<int> back(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) back[static_cast<size_t>(perm[i])] = static_cast<int>(i);
  const ir::Shape moved = permuted(in, perm);
  const int t = op(cx.add_op(layer, make_permute(in, perm), input, moved), moved, n);
  return cx.add_op(layer, make_permute(moved, back), t, in);
}

}  // namespace

int lower_embedding(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const int64_t input_dim = get_int(cfg, "input_dim"), output_dim = get_int(cfg, "output_dim");
  if (input_dim <= 0 || output_dim <= 0) throw LayerProblem{"input_dim and output_dim must be positive"};
  if (input_dim > (int64_t{1} << 24))
    throw LayerProblem{"input_dim " + std::to_string(input_dim) + " is above 2^24 = 16777216 (the indices must be "
                       "exact in float32); not supported"};
  auto lora = cfg.find("lora_rank");
  if (lora != cfg.end() && !lora->is_null())
    throw LayerProblem{"LoRA (lora_rank) is not supported; merge the LoRA weights into the embeddings and save again"};
  const auto& w = cx.weights(layer, 1);
  Context::expect_shape(w[0], {input_dim, output_dim}, "embeddings");
  ir::EmbeddingAttrs a;
  a.table = cx.add_weight(layer, w[0]);
  a.input_dim = input_dim;
  a.output_dim = output_dim;
  ir::Shape out = cx.shape_of(input);
  out.push_back(output_dim);
  const int y = cx.add_op(layer, a, input, out);
  if (!get_bool(cfg, "mask_zero", false)) return y;
  if (cx.shape_of(input).size() == 1) cx.set_mask(y, layer, input, {ir::MaskForm::Compute, 0.0f, 1});
  else cx.set_unknown_mask(y, "Embedding '" + layer.name + "' with mask_zero=True masks more than one axis");
  return y;
}

int lower_batch_norm(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape in = cx.shape_of(input);
  const std::vector<int> axes = axes_of(cfg.value("axis", json(-1)), in.size());
  if (!contiguous(axes))
    throw LayerProblem{"axis " + str(axes) + " is not a run of adjacent axes; not supported"};
  if (get_bool(cfg, "renorm", false)) throw LayerProblem{"renorm=True is not supported"};
  auto vbs = cfg.find("virtual_batch_size");
  if (vbs != cfg.end() && !vbs->is_null()) throw LayerProblem{"virtual_batch_size is not supported"};
  const bool scale = get_bool(cfg, "scale", true), center = get_bool(cfg, "center", true);
  const double eps = epsilon_of(cfg);
  ir::BatchNormAttrs a;
  a.outer = product(in, 0, static_cast<size_t>(axes.front()));
  a.channels = product(in, static_cast<size_t>(axes.front()), static_cast<size_t>(axes.back()) + 1);
  a.inner = product(in, static_cast<size_t>(axes.back()) + 1, in.size());
  a.epsilon = static_cast<float>(eps);
  // Keras's order: gamma (scale=True), beta (center=True), moving_mean, moving_variance.
  const auto& w = cx.weights(layer, 2 + (scale ? 1 : 0) + (center ? 1 : 0));
  size_t k = 0;
  const load::NamedArray* gamma = scale ? &w[k++] : nullptr;
  const load::NamedArray* beta = center ? &w[k++] : nullptr;
  const load::NamedArray& mean = w[k++];
  const load::NamedArray& var = w[k++];
  for (const load::NamedArray* p : {gamma, beta, &mean, &var})
    if (p) expect_count(*p, a.channels, "parameter");
  const ir::Shape pshape = {a.channels};
  if (gamma) a.gamma = cx.add_weight(layer, *gamma, pshape);
  if (beta) a.beta = cx.add_weight(layer, *beta, pshape);
  a.mean = cx.add_weight(layer, mean, pshape);
  a.variance = cx.add_weight(layer, var, pshape);
  std::vector<float> sc(static_cast<size_t>(a.channels)), sh(sc.size());
  for (size_t c = 0; c < sc.size(); ++c) {
    const double s = (gamma ? gamma->data[c] : 1.0) / std::sqrt(double{var.data[c]} + double{a.epsilon});
    sc[c] = static_cast<float>(s);
    sh[c] = static_cast<float>((beta ? beta->data[c] : 0.0) - mean.data[c] * s);
  }
  a.scale = cx.add_param(layer, "scale", std::move(sc));
  a.shift = cx.add_param(layer, "shift", std::move(sh));
  return cx.add_op(layer, a, input, in);
}

int lower_layer_norm(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape in = cx.shape_of(input);
  const std::vector<int> axes = axes_of(cfg.value("axis", json(-1)), in.size());
  if (get_bool(cfg, "rms_scaling", false))
    throw LayerProblem{"rms_scaling=True (deprecated in Keras) is not supported"};
  const bool scale = get_bool(cfg, "scale", true), center = get_bool(cfg, "center", true);
  const double eps = epsilon_of(cfg);
  ir::LayerNormAttrs a;
  a.epsilon = static_cast<float>(eps);
  a.n = 1;
  for (int ax : axes) a.n *= in[static_cast<size_t>(ax)];
  const bool trailing = contiguous(axes) && axes.back() + 1 == static_cast<int>(in.size());
  // tf.keras 2 runs its fused kernel for trailing contiguous axes and epsilon >= 1.001e-5 (float32).
  a.form = cx.keras_major() == 2 && trailing && eps >= 1.001e-5 ? ir::LayerNormForm::Centered : ir::LayerNormForm::Affine;
  const auto& w = cx.weights(layer, (scale ? 1 : 0) + (center ? 1 : 0));
  size_t k = 0;
  if (scale) expect_count(w[k], a.n, "gamma"), a.gamma = cx.add_weight(layer, w[k++], {a.n});
  if (center) expect_count(w[k], a.n, "beta"), a.beta = cx.add_weight(layer, w[k++], {a.n});
  if (contiguous(axes)) {
    a.outer = product(in, 0, static_cast<size_t>(axes.front()));
    a.inner = product(in, static_cast<size_t>(axes.back()) + 1, in.size());
    return cx.add_op(layer, a, input, in);
  }
  // Other axis sets: move the normalised axes to the end (in order), normalise, move them back.
  return with_axes_last(cx, layer, input, axes, [&](int t, const ir::Shape& moved, int64_t) {
    a.outer = ir::num_elements(moved) / a.n;
    return cx.add_op(layer, a, t, moved);
  });
}

// UnitNormalization: x * rsqrt(max(s, floor)) with s the sum of squares over `axis` (an int or a
// list). Keras 3 computes ops.normalize(x, order=2, epsilon=1e-12) = x * min(rsqrt(s), 1e12), i.e.
// the floor 1e-24; tf.keras 2 tf.linalg.l2_normalize(x, axis, epsilon=1e-12): the floor 1e-12.
int lower_unit_norm(Context& cx, const Layer& layer, int input) {
  const std::vector<int> axes = axes_of(layer.config->value("axis", json(-1)), cx.shape_of(input).size());
  const float floor = cx.keras_major() == 2 ? 1e-12f : 1e-24f;
  return with_axes_last(cx, layer, input, axes, [&](int t, const ir::Shape& s, int64_t n) {
    return cx.add_op(layer, ir::L2NormalizeAttrs{ir::num_elements(s) / n, n, floor}, t, s);
  });
}

// GroupNormalization(groups, axis): the C channels of `axis` in `groups` groups of C/G; each group
// normalised over its channels and every other per-sample axis, then gamma/beta per channel.
// Lowered as: a view [outer][G][C/G * inner] (outer, inner: the axes before and after `axis`), the
// group axis moved first (a Permute, unless outer is 1), LayerNorm over each group without
// gamma/beta (ir::LayerNormAttrs, Affine form), moved back, then y * gamma[c] + beta[c]
// (ir::ChannelMapAttrs, MulAdd). Keras computes inv = rsqrt(var + eps) * gamma
// and x * inv + (beta - mean * inv): the same terms, gamma applied after instead of folded into inv.
int lower_group_norm(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const ir::Shape in = cx.shape_of(input);
  const std::vector<int> axes = axes_of(cfg.value("axis", json(-1)), in.size());
  if (axes.size() != 1) throw LayerProblem{"axis must be one axis"};
  const size_t ax = static_cast<size_t>(axes[0]);
  const int64_t groups = get_int(cfg, "groups"), c = in[ax];
  if (groups <= 0 || c % groups != 0)
    throw LayerProblem{"groups=" + std::to_string(groups) + " does not divide the " + std::to_string(c) +
                       " channels of axis " + std::to_string(ax + 1)};
  const bool scale = get_bool(cfg, "scale", true), center = get_bool(cfg, "center", true);
  const auto& w = cx.weights(layer, (scale ? 1 : 0) + (center ? 1 : 0));
  const int64_t outer = product(in, 0, ax), inner = product(in, ax + 1, in.size()), per = c / groups * inner;
  ir::LayerNormAttrs ln;
  ln.epsilon = static_cast<float>(epsilon_of(cfg));
  ln.n = outer * per;
  ln.outer = groups;
  int t = input;
  if (outer == 1) {
    t = cx.add_op(layer, ln, cx.add_op(layer, ir::ReshapeAttrs{}, t, {groups, per}), {groups, per});
  } else {
    const ir::Shape view = {outer, groups, per}, moved = {groups, outer, per};
    t = cx.add_op(layer, make_permute(view, {1, 0, 2}), cx.add_op(layer, ir::ReshapeAttrs{}, t, view), moved);
    t = cx.add_op(layer, make_permute(moved, {1, 0, 2}), cx.add_op(layer, ln, t, moved), view);
  }
  t = cx.add_op(layer, ir::ReshapeAttrs{}, t, in);
  if (!scale && !center) return t;
  ir::ChannelMapAttrs affine;  // MulAdd: y * gamma[c] + beta[c]
  affine.outer = outer, affine.channels = c, affine.inner = inner;
  std::vector<float> gamma(static_cast<size_t>(c), 1.0f), beta(static_cast<size_t>(c), 0.0f);
  size_t k = 0;
  if (scale) expect_count(w[k], c, "gamma"), gamma = w[k++].data;
  if (center) expect_count(w[k], c, "beta"), beta = w[k++].data;
  affine.a = cx.add_param(layer, "gamma", std::move(gamma));
  affine.b = cx.add_param(layer, "beta", std::move(beta));
  return cx.add_op(layer, affine, t, in);
}

int lower_permute(Context& cx, const Layer& layer, int input) {
  const json& dims = require(*layer.config, "dims");
  const ir::Shape in = cx.shape_of(input);
  std::vector<int> perm;
  std::vector<bool> seen(in.size(), false);
  if (dims.is_array() && dims.size() == in.size())
    for (const json& d : dims) {
      const int64_t v = d.is_number_integer() ? d.get<int64_t>() : 0;
      if (v < 1 || v > static_cast<int64_t>(in.size()) || seen[static_cast<size_t>(v - 1)]) break;
      seen[static_cast<size_t>(v - 1)] = true;
      perm.push_back(static_cast<int>(v - 1));
    }
  if (perm.size() != in.size())
    throw LayerProblem{"dims " + dims.dump() + " is not a permutation of 1.." + std::to_string(in.size()) +
                       " for inputs of shape " + ir::to_string(in)};
  return cx.add_op(layer, make_permute(in, perm), input, permuted(in, perm));
}

int lower_repeat_vector(Context& cx, const Layer& layer, int input) {
  const int64_t n = get_int(*layer.config, "n");
  const ir::Shape& in = cx.shape_of(input);
  if (in.size() != 1) throw LayerProblem{"expects inputs of shape (batch, features), got " + ir::to_string(in)};
  if (n <= 0) throw LayerProblem{"n must be positive"};
  ir::RepeatAttrs a;
  a.in = {1, 1, 1, in[0]};
  a.factors = {1, 1, n, 1};
  return cx.add_op(layer, a, input, {n, in[0]});
}

int lower_zero_padding(Context& cx, const Layer& layer, int input) {
  return pad_or_crop(cx, layer, input, "padding", 1);
}

int crop_axis(Context& cx, const Layer& layer, int input, int64_t outer, int64_t n, int64_t inner, int64_t from,
              int64_t size, ir::Shape out) {
  ir::PadCropAttrs a;
  a.in = {1, outer, n, inner};
  a.before = {0, 0, -from, 0};
  a.after = {0, 0, -(n - from - size), 0};
  return cx.add_op(layer, a, input, std::move(out));
}

int lower_cropping(Context& cx, const Layer& layer, int input) {
  return pad_or_crop(cx, layer, input, "cropping", -1);
}

int lower_upsampling(Context& cx, const Layer& layer, int input) {
  const json& cfg = *layer.config;
  const size_t n = spatial_rank(layer);
  const ir::Shape& in = cx.shape_of(input);
  expect_rank(in, n);
  const std::vector<int64_t> f = factors(require(cfg, "size"), n, "size");
  const bool first = n > 1 && channels_first(cfg);
  const std::string interp = get_string(cfg, "interpolation", "nearest");
  if (interp == "bilinear" && n == 2) return bilinear(cx, layer, input, f, first);
  if (interp != "nearest")
    throw LayerProblem{"interpolation '" + interp + "' is not supported (nearest and bilinear are)"};
  const std::vector<size_t> axes = spatial_axes(n, first);
  ir::RepeatAttrs a;
  a.in = view4(in);
  a.factors.assign(4, 1);
  ir::Shape out = in;
  for (size_t i = 0; i < n; ++i) {
    a.factors[pos4(in, axes[i])] = f[i];
    out[axes[i]] *= f[i];
  }
  return cx.add_op(layer, a, input, out);
}

}  // namespace kc2cpp::lower
